package fakesdk_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
	"github.com/vigil-operator/vigil/internal/channel/wecomarchive/fakesdk"
)

func TestFakeServesLikeTheVendor(t *testing.T) {
	keys, _, err := fakesdk.GenerateKeys(3)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fakesdk.New(fakesdk.PublicKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddMessages(fakesdk.Samples()); err != nil {
		t.Fatal(err)
	}
	if n := len(fakesdk.Samples()); n != 24 || len(fakesdk.Constructed()) != 5 {
		t.Fatalf("fixtures: %d samples, %d constructed", n, len(fakesdk.Constructed()))
	}
	ctx := context.Background()
	raw, err := s.GetChatData(ctx, 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		ErrCode  int              `json:"errcode"`
		ErrMsg   string           `json:"errmsg"`
		ChatData []map[string]any `json:"chatdata"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil || resp.ErrCode != 0 || resp.ErrMsg != "ok" || len(resp.ChatData) != 5 {
		t.Fatalf("answer %s %v", raw, err)
	}
	var keysOf []string
	for k := range resp.ChatData[0] {
		keysOf = append(keysOf, k)
	}
	sort.Strings(keysOf)
	if want := []string{"encrypt_chat_msg", "encrypt_random_key", "msgid", "publickey_ver", "seq"}; !equal(keysOf, want) {
		t.Fatalf("element keys %v, want %v", keysOf, want)
	}
	cds, err := wecomarchive.ParseChatData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if cds[0].Seq != 11 || cds[4].Seq != 15 || cds[0].PublicKeyVer != 3 {
		t.Fatalf("seqs %d..%d ver %d", cds[0].Seq, cds[4].Seq, cds[0].PublicKeyVer)
	}
	// The random key is RSA PKCS#1 v1.5 under the version's public key.
	ct, _ := base64.StdEncoding.DecodeString(cds[0].EncryptRandomKey)
	key, err := rsa.DecryptPKCS1v15(nil, keys[3], ct)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := s.DecryptData(key, cds[0].EncryptChatMsg)
	if err != nil || string(plain) != string(fakesdk.Samples()[10]) {
		t.Fatalf("decrypted %q %v", plain, err)
	}
	if _, err := s.DecryptData([]byte("other"), cds[0].EncryptChatMsg); wecomarchive.SDKErrorCode(err) != wecomarchive.SDKErrDecrypt {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := s.GetChatData(ctx, 0, 0); wecomarchive.SDKErrorCode(err) != wecomarchive.SDKErrParams {
		t.Fatalf("limit 0: %v", err)
	}
	if _, err := s.GetChatData(ctx, 0, 1001); wecomarchive.SDKErrorCode(err) != wecomarchive.SDKErrParams {
		t.Fatalf("limit 1001: %v", err)
	}
	all, _ := s.GetChatData(ctx, 24, 1000)
	if cds, _ := wecomarchive.ParseChatData(all); len(cds) != 0 {
		t.Fatalf("past the end: %d", len(cds))
	}
	if err := s.SetKeyVersion(9); err == nil {
		t.Fatal("unknown version accepted")
	}
}

func TestFakeMediaChunks(t *testing.T) {
	s, _, err := fakesdk.NewWithGeneratedKeys(1)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, wecomarchive.MediaChunkBytes*2+5)
	for i := range data {
		data[i] = byte(i)
	}
	s.AddMedia("id", data)
	ctx := context.Background()
	var got []byte
	index := ""
	for i := 0; ; i++ {
		c, err := s.GetMediaData(ctx, index, "id")
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Data) > wecomarchive.MediaChunkBytes {
			t.Fatalf("chunk of %d bytes", len(c.Data))
		}
		got = append(got, c.Data...)
		if c.Finished {
			if i != 2 {
				t.Fatalf("finished after %d chunks, want 3", i+1)
			}
			break
		}
		index = c.OutIndexBuf
	}
	if string(got) != string(data) {
		t.Fatal("reassembled media differs")
	}
	if _, err := s.GetMediaData(ctx, "garbage", "id"); wecomarchive.SDKErrorCode(err) != wecomarchive.SDKErrParams {
		t.Fatalf("bad indexbuf: %v", err)
	}
	s.CorruptMediaOnce("id")
	c1, _ := s.GetMediaData(ctx, "", "id")
	c2, _ := s.GetMediaData(ctx, "", "id")
	if c1.Data[0] == data[0] || c2.Data[0] != data[0] {
		t.Fatal("corruption not exactly once")
	}
}

func TestTrafficIsConsistent(t *testing.T) {
	s, _, err := fakesdk.NewWithGeneratedKeys(1)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := s.Traffic(20, fakeStart, 1000, 7)
	if err != nil || len(lines) != 20 {
		t.Fatalf("%d %v", len(lines), err)
	}
	var img struct {
		MsgType string `json:"msgtype"`
		Image   struct {
			SDKFileID string `json:"sdkfileid"`
			FileSize  int    `json:"filesize"`
		} `json:"image"`
	}
	if err := json.Unmarshal(lines[9], &img); err != nil || img.MsgType != "image" || img.Image.FileSize != 1000 {
		t.Fatalf("tenth message %s", lines[9])
	}
	if c, err := s.GetMediaData(context.Background(), "", img.Image.SDKFileID); err != nil || len(c.Data) != 1000 || !c.Finished {
		t.Fatalf("generated media: %v", err)
	}
	again, _ := s.Traffic(20, fakeStart, 0, 7)
	if string(again[0]) != string(lines[0]) {
		t.Fatal("same seed, different traffic")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var fakeStart = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
