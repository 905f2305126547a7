package wecomarchive

import (
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

func FuzzParseChatData(f *testing.F) {
	f.Add([]byte(`{"errcode":0,"errmsg":"ok","chatdata":[{"seq":196,"msgid":"CAQQ2fbb4QUY0On2rYSAgAMgip/yzgs=","publickey_ver":3,"encrypt_random_key":"a2V5","encrypt_chat_msg":"bXNn"}]}`))
	f.Add([]byte(`{"errcode":10010,"errmsg":"data expired"}`))
	f.Add([]byte(`{"chatdata":[{"seq":-1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cds, err := ParseChatData(body)
		if err != nil {
			return
		}
		for _, cd := range cds {
			if cd.Seq == 0 || cd.MsgID == "" || cd.EncryptRandomKey == "" || cd.EncryptChatMsg == "" || len(cd.Raw) == 0 {
				t.Fatalf("accepted an incomplete element %+v", cd)
			}
		}
	})
}

func FuzzMapMessage(f *testing.F) {
	for _, l := range fixtureLines(f) {
		f.Add(l)
	}
	f.Add([]byte("{\"msgid\":\"x\",\"msgtype\":\"text\",\"text\":{\"content\":\"a\x00b\"}}"))
	f.Add([]byte(`{"msgtype":"mixed","mixed":{"item":[{"type":"image","content":"{\"sdkfileid\":\"s\"}"}]}}`))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, plain []byte) {
		rec, refs := mapMessage(plain, pullMeta{corpID: "wwcorp", seq: 7, keyVer: 1, msgID: "fallback", now: now})
		for _, r := range refs {
			if r.index < 0 || r.index >= len(rec.Attachments) || r.sdkFileID == "" {
				t.Fatalf("bad media ref %+v", r)
			}
		}
		cp := *rec
		cp.SchemaVersion = capture.SchemaVersion
		cp.CapturedAt = now
		cp.ID = capture.NewID(now)
		cp.SetDedupKey()
		if err := cp.Validate(); err != nil {
			t.Fatalf("mapped record does not validate: %v", err)
		}
	})
}

func FuzzBridgeDecode(f *testing.F) {
	f.Add([]byte(`{"seq":1,"limit":1000,"timeout":10}`))
	f.Add([]byte(`{"encrypt_key":"a2V5","encrypt_msg":"bXNn"}`))
	f.Add([]byte(`{"indexbuf":"","sdkfileid":"x","timeout":5}`))
	f.Add([]byte(`{"outindexbuf":"r:1","data":"AAEC","is_finish":false}`))
	f.Add([]byte(`{"sdk_error":10010}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if r, err := decodeChatDataRequest(body); err == nil && (r.Limit < 1 || r.Limit > MaxPullLimit || r.Timeout < 0) {
			t.Fatalf("accepted %+v", r)
		}
		if r, err := decodeDecryptRequest(body); err == nil && (len(r.EncryptKey) == 0 || r.EncryptMsg == "") {
			t.Fatalf("accepted %+v", r)
		}
		if r, err := decodeMediaRequest(body); err == nil && r.SDKFileID == "" {
			t.Fatalf("accepted %+v", r)
		}
		if c, err := decodeMediaResponse(body); err == nil && (len(c.Data) > MediaChunkBytes || (!c.Finished && c.OutIndexBuf == "")) {
			t.Fatalf("accepted %+v", c)
		}
		if code, ok := decodeBridgeError(body); ok && code == 0 {
			t.Fatal("zero sdk_error accepted")
		}
	})
}
