package wecomarchive_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
)

func imageMsg(id, fileID string, data []byte, md5sum string) []byte {
	if md5sum == "" {
		s := md5.Sum(data)
		md5sum = hex.EncodeToString(s[:])
	}
	b, _ := json.Marshal(map[string]any{"msgid": id, "action": "send", "from": "alice", "tolist": []string{"bob"}, "roomid": "",
		"msgtime": 1700000000000, "msgtype": "image", "image": map[string]any{"md5sum": md5sum, "filesize": len(data), "sdkfileid": fileID}})
	return b
}

func media(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

func TestMediaChunksAndMD5Retry(t *testing.T) {
	fake := newFake(t)
	big := media(wecomarchive.MediaChunkBytes*2+1000, 1) // three chunks
	fake.AddMedia("file-big", big)
	fake.CorruptMediaOnce("file-big")
	small := media(5000, 2)
	fake.AddMedia("file-small", small)
	fake.FailMedia(wecomarchive.SDKErrNetwork, 1) // the first call: transient
	huge := media(wecomarchive.MediaChunkBytes*3, 3)
	fake.AddMedia("file-huge", huge)
	for _, m := range [][]byte{
		imageMsg("m-big", "file-big", big, ""),
		imageMsg("m-small", "file-small", small, ""),
		imageMsg("m-badmd5", "file-small", small, "00000000000000000000000000000000"),
		imageMsg("m-missing", "file-none", small, ""),
		imageMsg("m-huge", "file-huge", huge, ""),
		// States no size: abandoned once the bytes pass the limit.
		[]byte(`{"msgid":"m-unsized","action":"send","from":"alice","tolist":["bob"],"msgtime":1,"msgtype":"file","file":{"filename":"x.bin","sdkfileid":"file-huge"}}`),
	} {
		if _, err := fake.AddMessage(m); err != nil {
			t.Fatal(err)
		}
	}
	opts := testOptions(fake)
	opts.MaxMediaBytes = wecomarchive.MediaChunkBytes * 2
	opts.MaxMediaBytes += 2000 // big fits, huge does not
	ch, err := wecomarchive.NewWithOptions(params(t, t.TempDir(), 1), opts)
	if err != nil {
		t.Fatal(err)
	}
	sink := &connectortest.Sink{}
	if err := wecomarchive.PullAll(ch, context.Background(), sink); err != nil {
		t.Fatal(err)
	}
	got := map[string]capture.Attachment{}
	for _, r := range sink.Records() {
		if len(r.Attachments) == 1 {
			got[r.NativeID] = r.Attachments[0]
		}
	}
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	want := map[string]capture.Attachment{
		"m-big":     {State: "stored", Size: int64(len(big)), SHA256: sum(big)},
		"m-small":   {State: "stored", Size: int64(len(small)), SHA256: sum(small)},
		"m-badmd5":  {State: "failed", Size: int64(len(small))},
		"m-missing": {State: "failed", Size: int64(len(small))},
		"m-huge":    {State: "too_large", Size: int64(len(huge))},
		"m-unsized": {State: "too_large", Size: int64(wecomarchive.MediaChunkBytes * 3)},
	}
	for id, w := range want {
		g := got[id]
		if g.State != w.State || g.Size != w.Size || g.SHA256 != w.SHA256 {
			t.Errorf("%s: got state=%s size=%d sha=%s; want %+v", id, g.State, g.Size, g.SHA256, w)
		}
		if g.NativeRef == "" || (g.ProviderMD5 == "" && id != "m-unsized") {
			t.Errorf("%s: nativeRef/providerMD5 missing", id)
		}
	}
	// big: 1 transient + 3 corrupted + 3 good; small: 1; badmd5: 3 tries;
	// missing: 1 (10005 is final); huge: skipped on its stated size;
	// unsized: 3 chunks, then over the limit.
	if _, calls := fake.Calls(); calls != 1+3+3+1+3+1+3 {
		t.Errorf("GetMediaData calls = %d, want 15", calls)
	}
}
