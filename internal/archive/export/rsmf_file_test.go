package export

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// rawRSMF builds an RSMF-like message by hand: extra headers, then one part
// per attachment name, each a zip of the given files.
func rawRSMF(t *testing.T, header string, attachments map[string]map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("From: a@example.invalid\r\nMIME-Version: 1.0\r\n" + header)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n--=_b\r\nContent-Type: text/plain\r\n\r\nhello\r\n")
	for name, files := range attachments {
		var z bytes.Buffer
		zw := zip.NewWriter(&z)
		for n, content := range files {
			w, err := zw.Create(n)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(content))
		}
		zw.Close()
		b.WriteString("--=_b\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename=" + name +
			"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString(z.Bytes()) + "\r\n")
	}
	b.WriteString("--=_b--\r\n")
	return b.Bytes()
}

const minimalManifest = `{"version":"2.0.0","participants":[{"id":"P1"}],
	"conversations":[{"id":"C1","platform":"sms","participants":["P1"]}],
	"events":[{"type":"message","participant":"P1","conversation":"C1","body":"hi","attachments":[{"id":"a.png"}]}]}`

func TestReadRSMF(t *testing.T) {
	good := map[string]map[string]string{"rsmf.zip": {RSMFManifestFile: minimalManifest, "a.png": "png"}}
	f, err := ReadRSMF(bytes.NewReader(rawRSMF(t, "X-RSMF-Version: 2.0.0\r\nX-RSMF-EventCount: 1\r\n", good)))
	if err != nil {
		t.Fatalf("valid RSMF refused: %v", err)
	}
	if len(f.Manifest.Events) != 1 || !f.Files["a.png"] {
		t.Errorf("read %+v", f)
	}
	cases := map[string][]byte{
		"no version header": rawRSMF(t, "", good),
		"event count wrong": rawRSMF(t, "X-RSMF-Version: 2.0.0\r\nX-RSMF-EventCount: 2\r\n", good),
		"begin date":        rawRSMF(t, "X-RSMF-Version: 2.0.0\r\nX-RSMF-BeginDate: March\r\n", good),
		"attachment name":   rawRSMF(t, "X-RSMF-Version: 2.0.0\r\n", map[string]map[string]string{"chat.zip": good["rsmf.zip"]}),
		"two attachments": rawRSMF(t, "X-RSMF-Version: 2.0.0\r\n", map[string]map[string]string{
			"rsmf.zip": good["rsmf.zip"], "other.zip": good["rsmf.zip"]}),
		"no manifest in the zip":        rawRSMF(t, "X-RSMF-Version: 2.0.0\r\n", map[string]map[string]string{"rsmf.zip": {"a.png": "png"}}),
		"attachment missing from zip":   rawRSMF(t, "X-RSMF-Version: 2.0.0\r\n", map[string]map[string]string{"rsmf.zip": {RSMFManifestFile: minimalManifest}}),
		"zip entry escaping the root":   rawRSMF(t, "X-RSMF-Version: 2.0.0\r\n", map[string]map[string]string{"rsmf.zip": {RSMFManifestFile: minimalManifest, "a.png": "", "../x": ""}}),
		"not multipart":                 []byte("X-RSMF-Version: 2.0.0\r\nContent-Type: text/plain\r\n\r\nhello\r\n"),
		"not a message":                 []byte("\x00\x01"),
		"manifest in a sub-folder only": rawRSMF(t, "X-RSMF-Version: 2.0.0\r\n", map[string]map[string]string{"rsmf.zip": {"chat/" + RSMFManifestFile: minimalManifest}}),
	}
	for name, raw := range cases {
		if _, err := ReadRSMF(bytes.NewReader(raw)); !errors.Is(err, ErrInvalidRSMF) {
			t.Errorf("%s: %v, want ErrInvalidRSMF", name, err)
		}
	}
}

func TestTranscript(t *testing.T) {
	m := &RSMFManifest{Conversations: []RSMFConversation{{Platform: "wecom", Display: "项目群"}}, Events: []RSMFEvent{
		{Timestamp: "2026-03-02T09:00:00.000Z", Participant: "P1", Body: "早晨", Deleted: true,
			Edits: []RSMFEdit{{Participant: "P1"}}, Reactions: []RSMFReaction{{Value: "👍", Count: 2}}},
	}}
	got := transcript(m, map[string]string{"P1": "陈大文"})
	want := "wecom conversation 项目群\n\n[2026-03-02T09:00:00.000Z] 陈大文: 早晨 (edits: 1; recalled; 👍 ×2)\n"
	if got != want {
		t.Errorf("transcript\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(transcript(&RSMFManifest{Conversations: m.Conversations, Events: []RSMFEvent{{Participant: "P9"}}}, nil), "(unknown)") {
		t.Error("an unknown participant is not named as such")
	}
}
