package export

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readEML parses an exported message with net/mail and mime and returns its
// header, its decoded text and its decoded attachments by file name.
func readEML(t *testing.T, path string) (mail.Header, string, map[string][]byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 || strings.Contains(line, "\n") {
			t.Fatalf("%s line %d is longer than RFC 5322 allows or not CRLF-terminated", path, i+1)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	decode := func(cte string, r io.Reader) []byte {
		if strings.EqualFold(cte, "base64") {
			r = base64.NewDecoder(base64.StdEncoding, r)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return b
	}
	if mt == "text/plain" {
		if params["charset"] != "UTF-8" {
			t.Errorf("charset %q", params["charset"])
		}
		// net/mail leaves quoted-printable to the reader.
		var r io.Reader = msg.Body
		cte := msg.Header.Get("Content-Transfer-Encoding")
		if strings.EqualFold(cte, "quoted-printable") {
			r, cte = quotedprintable.NewReader(r), ""
		}
		return msg.Header, string(decode(cte, r)), nil
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var text string
	files := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b := decode(p.Header.Get("Content-Transfer-Encoding"), p)
		if p.FileName() != "" {
			files[p.FileName()] = b
		} else {
			text = string(b)
		}
	}
	return msg.Header, text, files
}

func TestEMLPerRecord(t *testing.T) {
	f := buildFixture(t)
	dir, _ := f.exportDir(t, f.options(FormatEML))
	m := readManifestFile(t, dir)
	var dec mime.WordDecoder
	for i, e := range m.Records {
		h, text, files := readEML(t, filepath.Join(dir, e.EML))
		rec := f.items[i].Record.Record
		for name, want := range map[string]string{
			"X-Vigil-Record-Id": e.ID, "X-Vigil-Account": e.Account, "X-Vigil-Channel": rec.Channel,
			"X-Vigil-Leaf-Index": strconv.FormatUint(e.LeafIndex, 10), "X-Vigil-Bates": e.Bates,
			"X-Vigil-Record-SHA256": sum(f.items[i].RecordBytes), "MIME-Version": "1.0",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s: %s is %q, want %q", e.EML, name, got, want)
			}
		}
		date, err := h.Date()
		if err != nil || !date.Equal(rec.SentAt.Truncate(time.Second)) {
			t.Errorf("%s: Date %v (%v), sent %v", e.EML, date, err, rec.SentAt)
		}
		from, err := h.AddressList("From")
		if err != nil || len(from) != 1 {
			t.Fatalf("%s: From: %v", e.EML, err)
		}
		if rec.Sender.DisplayName != "" && from[0].Name != rec.Sender.DisplayName {
			t.Errorf("%s: From name %q, want %q", e.EML, from[0].Name, rec.Sender.DisplayName)
		}
		if _, err := h.AddressList("To"); err != nil {
			t.Errorf("%s: To: %v", e.EML, err)
		}
		subject, err := dec.DecodeHeader(h.Get("Subject"))
		if err != nil || !strings.Contains(subject, conversationLabel(rec.Conversation)) {
			t.Errorf("%s: Subject %q (%v)", e.EML, subject, err)
		}
		text = strings.ReplaceAll(text, "\r\n", "\n")
		if rec.Text != "" && !strings.Contains(text, strings.ReplaceAll(rec.Text, "\r\n", "\n")) {
			t.Errorf("%s: body %q does not carry the text %q", e.EML, text, rec.Text)
		}
		if len(e.Attachments) != len(files) {
			t.Errorf("%s: %d attachment parts, %d exported attachments", e.EML, len(files), len(e.Attachments))
		}
		for _, a := range e.Attachments {
			name := attachmentName(a.Index, rec.Attachments[a.Index].Name)
			if want := f.attachments[attKey{e.ID, a.Index}]; !bytes.Equal(files[name], want) {
				t.Errorf("%s: attachment %q decodes to %q, want %q", e.EML, name, files[name], want)
			}
		}
	}
}

func TestEMLBodyEncodings(t *testing.T) {
	f := buildFixture(t)
	dir, _ := f.exportDir(t, f.options(FormatEML))
	m := readManifestFile(t, dir)
	cte := func(i int) string {
		raw, _ := os.ReadFile(filepath.Join(dir, m.Records[i].EML))
		switch {
		case bytes.Contains(raw, []byte("Content-Transfer-Encoding: base64\r\n\r\n5L2g")):
			return "base64"
		case bytes.Contains(raw, []byte("Content-Transfer-Encoding: quoted-printable")):
			return "quoted-printable"
		}
		return "other"
	}
	// The Cantonese message goes base64, the mostly-English one
	// quoted-printable.
	if got := cte(0); got != "base64" {
		t.Errorf("the Chinese message is %s", got)
	}
	if got := cte(1); got != "quoted-printable" {
		t.Errorf("the mostly-English message is %s", got)
	}
}
