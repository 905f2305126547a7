package export

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/capture"
)

func TestEncodeWordsRoundTrips(t *testing.T) {
	var dec mime.WordDecoder
	for _, s := range []string{
		"plain ascii",
		"项目群 Project 粵",
		"你食咗飯未呀？今日個會議改咗去三點，記得帶埋份報價單同埋合約草稿過嚟 👍🏻 thanks — “quoted”",
		strings.Repeat("飯", 100),
		"looks like =?UTF-8?B?encoded?= but is not",
	} {
		enc := encodeWords(s)
		for _, w := range strings.Fields(enc) {
			if len(w) > 75 && strings.HasPrefix(w, "=?") {
				t.Errorf("encoded word of %d characters: %s", len(w), w)
			}
		}
		got, err := dec.DecodeHeader(enc)
		if err != nil || got != s {
			t.Errorf("encodeWords(%q) = %q, decodes to %q (%v)", s, enc, got, err)
		}
	}
	if got := encodeWords("Subject line"); got != "Subject line" {
		t.Errorf("ASCII was encoded: %q", got)
	}
}

func TestHeadersFoldAndStayOneField(t *testing.T) {
	var h headers
	h.text("Subject", strings.Repeat("群組對話 ", 40))
	h.add("To", strings.Repeat("someone <x@wecom.invalid>, ", 20)+"last <y@wecom.invalid>")
	h.text("X-Injected", "value\r\nBcc: victim@example.com")
	msg, err := mail.ReadMessage(strings.NewReader(h.b.String() + "\r\nbody"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(h.b.String(), "\r\n"), "\r\n") {
		if strings.TrimSpace(line) == "" {
			t.Errorf("a folded line holds only white space: %q", line)
		}
		// A value is never moved off its header's first line, so only
		// continuation lines must fit.
		if len(line) > 78 && strings.HasPrefix(line, " ") && strings.Contains(line[1:], " ") {
			t.Errorf("line of %d characters could have been folded: %q", len(line), line)
		}
	}
	if msg.Header.Get("Bcc") != "" {
		t.Error("a line break in a value injected a header")
	}
	if to, err := msg.Header.AddressList("To"); err != nil || len(to) != 21 {
		t.Errorf("folded To: %d addresses (%v)", len(to), err)
	}
	var dec mime.WordDecoder
	if got, _ := dec.DecodeHeader(msg.Header.Get("Subject")); got != strings.Repeat("群組對話 ", 40) {
		t.Errorf("folded subject decodes to %q", got)
	}
}

func TestAddressAlwaysParses(t *testing.T) {
	for _, p := range []capture.Participant{
		{ID: "chan", DisplayName: "陈大文"},
		{ID: "+852 5555 0000", DisplayName: "O'Brien, Pat \"the deal\""},
		{ID: "wm..odd..", DisplayName: ""},
		{ID: "", DisplayName: ""},
		{ID: "a@b", DisplayName: "<script>"},
		{ID: strings.Repeat("x", 100), DisplayName: "line\r\nbreak"},
	} {
		s := address(p, "WeCom Archive!")
		a, err := mail.ParseAddress(s)
		if err != nil {
			t.Errorf("address(%+v) = %q: %v", p, s, err)
			continue
		}
		if !strings.HasSuffix(a.Address, "@wecomarchive.invalid") {
			t.Errorf("address %q is not in the .invalid domain", a.Address)
		}
	}
	if localPart("chan.tai-man_1") != "chan.tai-man_1" || !strings.HasPrefix(localPart("a b"), "h-") {
		t.Error("localPart keeps or hashes the wrong ids")
	}
}

func TestWriteTextBody(t *testing.T) {
	for _, text := range []string{"mostly English with one 字\r\nand a CRLF", "全部都係中文，冇英文。\n第二行", ""} {
		var b bytes.Buffer
		if err := writeTextBody(&b, text); err != nil {
			t.Fatal(err)
		}
		head, body, _ := strings.Cut(b.String(), "\r\n\r\n")
		var r io.Reader = strings.NewReader(body)
		if strings.Contains(head, "base64") {
			r = base64.NewDecoder(base64.StdEncoding, r)
		} else {
			r = quotedprintable.NewReader(r)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
		if strings.TrimSuffix(string(got), "\r\n") != want {
			t.Errorf("%q decodes to %q", text, got)
		}
		for _, line := range strings.Split(body, "\r\n") {
			if len(line) > 76 {
				t.Errorf("body line of %d characters", len(line))
			}
		}
	}
}

func TestBase64WriterLines(t *testing.T) {
	data := bytes.Repeat([]byte{0xe9, 0x81, 0x8e}, 1000)
	var b bytes.Buffer
	if err := writeBase64(&b, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n")
	for i, l := range lines {
		if len(l) != 76 && i != len(lines)-1 {
			t.Fatalf("line %d has %d characters", i, len(l))
		}
	}
	got, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, &b))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("round trip failed: %v", err)
	}
}

func TestAttachmentHeaders(t *testing.T) {
	h := attachmentHeaders("not a media type;;", "0-报价单 v2.pdf")
	msg, err := mail.ReadMessage(strings.NewReader(h + "x"))
	if err != nil {
		t.Fatal(err)
	}
	if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/octet-stream") {
		t.Errorf("a bad media type was kept: %q", ct)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Disposition"))
	if err != nil || params["filename"] != "0-报价单 v2.pdf" {
		t.Errorf("filename %q (%v)", params["filename"], err)
	}
	if ct := attachmentHeaders("multipart/mixed", "x"); strings.Contains(ct, "multipart") {
		t.Error("an attachment may not claim to be multipart")
	}
}

func TestBoundaryIsStable(t *testing.T) {
	if boundary("a") != boundary("a") || boundary("a") == boundary("b") || !strings.HasPrefix(boundary("a"), "=_") {
		t.Error("boundaries must be derived from their seed and start with =_")
	}
}
