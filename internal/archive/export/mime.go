package export

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/capture"
)

// headers builds an RFC 5322 header block: CRLF line ends, non-ASCII values
// as RFC 2047 encoded words, and lines folded at 78 characters where a space
// allows it.
type headers struct{ b bytes.Buffer }

// add writes a header whose value is already in wire form (addresses,
// media types, ASCII tokens); control characters are still removed, so no
// value can end the header early or inject another.
func (h *headers) add(name, value string) {
	h.fold(name + ": " + clean(value))
}

// text writes an unstructured header (Subject, X-…), encoding it when it
// is not plain ASCII.
func (h *headers) text(name, value string) {
	h.fold(name + ": " + encodeWords(clean(value)))
}

// fold writes one header line, breaking it before a space whenever the line
// would pass 78 characters. Breaking only before existing spaces keeps the
// value intact once a reader unfolds it.
func (h *headers) fold(line string) {
	const limit = 78
	col := 0
	words := strings.Split(line, " ")
	for i, w := range words {
		if i > 0 {
			// Never right after the name: a value starting on a
			// continuation line confuses some readers.
			if i > 1 && col+1+len(w) > limit && w != "" {
				h.b.WriteString("\r\n")
				col = 0
			}
			h.b.WriteByte(' ')
			col++
		}
		h.b.WriteString(w)
		col += len(w)
	}
	h.b.WriteString("\r\n")
}

// encodeWords returns s unchanged when it is printable ASCII that no reader
// could take for an encoded word, and otherwise as RFC 2047 "B" encoded
// words of at most 75 characters, split on character boundaries. Base64
// rather than "Q" because Chinese text is a third shorter that way.
func encodeWords(s string) string {
	if !needsEncoding(s) {
		return s
	}
	const chunk = 45 // 60 base64 characters plus "=?UTF-8?B?" and "?="
	var words []string
	for len(s) > 0 {
		n := min(chunk, len(s))
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}

func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return true
		}
	}
	return strings.Contains(s, "=?")
}

// address renders a participant as a mailbox. Chat participants have no
// e-mail address, so one is made in the reserved .invalid domain (RFC 2606)
// from the participant's id and channel: it can never reach anyone, and it
// keeps the id visible to review tools that group by address.
func address(p capture.Participant, channel string) string {
	name := clean(p.DisplayName)
	if name == "" {
		name = clean(p.ID)
	}
	a := mail.Address{Name: name, Address: localPart(p.ID) + "@" + domainLabel(channel) + ".invalid"}
	return a.String()
}

// localPart keeps an id that is a plain dot-atom and hashes any other, so
// that every address parses.
func localPart(id string) string {
	ok := id != "" && len(id) <= 64 && id[0] != '.' && id[len(id)-1] != '.' && !strings.Contains(id, "..")
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '+') {
			ok = false
			break
		}
	}
	if ok {
		return id
	}
	return "h-" + shortHash(id, 24)
}

func domainLabel(channel string) string {
	var b strings.Builder
	for _, c := range []byte(strings.ToLower(channel)) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" || len(s) > 63 {
		return "unknown"
	}
	return s
}

// mailDate is the RFC 5322 date of t, in UTC.
func mailDate(t time.Time) string { return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700") }

// boundary is a MIME boundary derived from seed, so output is reproducible.
// "=_" cannot occur in quoted-printable or base64 bodies, which are the
// only bodies written, so the boundary can never collide with content.
func boundary(seed string) string { return "=_vigil_" + shortHash(seed, 24) }

// writeTextBody writes the Content-Type and Content-Transfer-Encoding
// headers of a UTF-8 text part, the blank line, and the encoded text.
// Mostly-ASCII text goes quoted-printable, so it stays readable in a plain
// viewer; mostly-CJK text goes base64, which is a third the size of
// quoted-printable for it.
func writeTextBody(w io.Writer, text string) error {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	nonASCII := 0
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 {
			nonASCII++
		}
	}
	if nonASCII*3 > len(text) {
		if _, err := io.WriteString(w, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"); err != nil {
			return err
		}
		// Text is base64-encoded in its canonical form, with CRLF line ends.
		return writeBase64(w, strings.NewReader(strings.ReplaceAll(text, "\n", "\r\n")))
	}
	if _, err := io.WriteString(w, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"); err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, text); err != nil {
		return err
	}
	if err := qp.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\r\n")
	return err
}

// writeBase64 streams r as base64 in 76-character CRLF lines (RFC 2045).
func writeBase64(w io.Writer, r io.Reader) error {
	bw := newBase64Writer(w)
	if _, err := io.Copy(bw, r); err != nil {
		return err
	}
	return bw.Close()
}

// base64Writer encodes what is written to it as base64 in 76-character
// CRLF lines; Close flushes the last line.
type base64Writer struct {
	enc io.WriteCloser
	lw  *lineWriter
}

func newBase64Writer(w io.Writer) *base64Writer {
	lw := &lineWriter{w: w, width: 76}
	return &base64Writer{enc: base64.NewEncoder(base64.StdEncoding, lw), lw: lw}
}

func (b *base64Writer) Write(p []byte) (int, error) { return b.enc.Write(p) }

func (b *base64Writer) Close() error {
	if err := b.enc.Close(); err != nil {
		return err
	}
	return b.lw.finish()
}

// lineWriter breaks a stream into CRLF-terminated lines of width bytes.
type lineWriter struct {
	w     io.Writer
	width int
	col   int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(l.width-l.col, len(p))
		if _, err := l.w.Write(p[:k]); err != nil {
			return n, err
		}
		n += k
		l.col += k
		p = p[k:]
		if l.col == l.width {
			if _, err := io.WriteString(l.w, "\r\n"); err != nil {
				return n, err
			}
			l.col = 0
		}
	}
	return n, nil
}

// finish ends a partial last line.
func (l *lineWriter) finish() error {
	if l.col == 0 {
		return nil
	}
	l.col = 0
	_, err := io.WriteString(l.w, "\r\n")
	return err
}

// attachmentHeaders is the header block of an attachment part. The media
// type is the record's when it parses, so a corrupt value cannot break the
// message; the file name goes RFC 2231-encoded when it is not ASCII.
func attachmentHeaders(mediaType, filename string) string {
	mt := "application/octet-stream"
	if parsed, _, err := mime.ParseMediaType(mediaType); err == nil && strings.Contains(parsed, "/") && !strings.HasPrefix(parsed, "multipart/") {
		mt = parsed
	}
	ct := mime.FormatMediaType(mt, map[string]string{"name": filename})
	cd := mime.FormatMediaType("attachment", map[string]string{"filename": filename})
	if ct == "" || cd == "" {
		ct, cd = "application/octet-stream", "attachment"
	}
	var h headers
	h.add("Content-Type", ct)
	h.add("Content-Disposition", cd)
	h.add("Content-Transfer-Encoding", "base64")
	return h.b.String() + "\r\n"
}

// writeBoundary writes the delimiter before the next part, or the closing
// delimiter after the last.
func writeBoundary(w io.Writer, b string, last bool) error {
	s := "\r\n--" + b + "\r\n"
	if last {
		s = "\r\n--" + b + "--\r\n"
	}
	_, err := io.WriteString(w, s)
	return err
}

// multipartHeader is the Content-Type of a multipart/mixed message.
func multipartHeader(b string) string {
	return fmt.Sprintf("multipart/mixed; boundary=%q", b)
}
