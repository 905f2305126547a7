package wecom

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

func appMessageSeeds(f *testing.F) {
	for _, v := range postVectors {
		f.Add([]byte(v.plaintext))
	}
	f.Add([]byte(`<xml><FromUserName>sys</FromUserName><CreateTime>1403610513</CreateTime><MsgType>event</MsgType><Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType><UserID>u</UserID><ExternalUserID>wmX</ExternalUserID></xml>`))
	f.Add([]byte(`{"ToUserName":"ww1","FromUserName":"u","CreateTime":1409659813,"MsgType":"text","Content":"hi","MsgId":4561255354251345929,"AgentID":218}`))
	f.Add([]byte(`<xml><MsgType>event</MsgType><Event>kf_msg_or_event</Event><Token>t</Token><OpenKfId>wk</OpenKfId></xml>`))
}

// mustBeStorable stamps r as the connector does and requires it to pass
// the sink's validation: a record the sink refuses would make WeCom retry
// forever or block the kf cursor.
func mustBeStorable(t *testing.T, r *capture.Record) {
	t.Helper()
	connector.Stamp(r, time.Unix(1767225600, 0), "ns/acct", "fuzz")
	if err := r.Validate(); err != nil {
		t.Fatalf("record not storable: %v", err)
	}
}

// FuzzParseAppMessage feeds decrypted callback plaintexts (XML or JSON) to
// the parser and mapper.
func FuzzParseAppMessage(f *testing.F) {
	appMessageSeeds(f)
	meta := recordMeta{channel: ChannelName, tenant: "wwcorp", receivedAt: time.Unix(1767225600, 0)}
	f.Fuzz(func(t *testing.T, plain []byte) {
		m, err := parseAppMessage(plain)
		if err != nil {
			mustBeStorable(t, unparsedRecord(plain, meta))
			return
		}
		if m.dedupeKey() != m.dedupeKey() {
			t.Fatal("dedupe key is not deterministic")
		}
		mustBeStorable(t, appRecord(m, plain, meta))
	})
}

// FuzzCallbackAuthenticMessage sends any plaintext, properly encrypted and
// signed, through the handler: an authentic callback is always taken.
func FuzzCallbackAuthenticMessage(f *testing.F) {
	appMessageSeeds(f)
	// One handler for all inputs: each request has a fresh nonce, and a
	// repeated input is a duplicate, which is also answered 200.
	hs := newHarness(f, setA, func(c *CallbackConfig) { c.OnKfEvent = func(string, string) error { return nil } })
	hs.now = time.Unix(1767225600, 0)
	f.Fuzz(func(t *testing.T, plain []byte) {
		// Move the clock on so that replay entries expire and the cache
		// stays small however long the fuzzer runs.
		hs.now = hs.now.Add(time.Hour)
		req, err := SignedCallback("http://c"+Path, setA.token, setA.aesKey, setA.receiveID, plain, wxcrypt.FormatJSON, hs.now)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		hs.h.ServeHTTP(rec, req)
		// 400 only for a kf event without OpenKfId, which cannot be synced.
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("authentic callback answered %d: %s", rec.Code, rec.Body.String())
		}
	})
}

// FuzzKfSyncResponse feeds kf/sync_msg response bodies to the mapper.
func FuzzKfSyncResponse(f *testing.F) {
	f.Add([]byte(`{"errcode":0,"errmsg":"ok","next_cursor":"4gw7MepFLfgF2VC5npN","has_more":1,"msg_list":[` + kfSample(3, "text", `{"content":"hello world","menu_id":"101"}`) + `]}`))
	f.Add([]byte(`{"next_cursor":"c","has_more":0,"msg_list":[` + kfSample(4, "event", `{"event_type":"user_recall_msg","recall_msgid":"x"}`) + `,` + kfSample(5, "msgmenu", `{"head_content":"h","list":[{"type":"click","click":{"id":"1","content":"c"}}]}`) + `]}`))
	f.Add([]byte(`{"msg_list":[1,"x",null,{},{"msgid":"","origin":"3","send_time":"-1"}]}`))
	b := kfBatch{corpID: "wwcorp", openKfID: "wk", cursor: "c", receivedAt: time.Unix(1767225600, 0)}
	f.Fuzz(func(t *testing.T, body []byte) {
		var resp syncMsgResponse
		if json.Unmarshal(body, &resp) != nil {
			return
		}
		_ = resp.more()
		for _, r := range kfRecords(resp.MsgList, b) {
			mustBeStorable(t, r)
		}
	})
}
