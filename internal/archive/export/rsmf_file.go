package export

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/mail"
	"strconv"
	"strings"

	"github.com/vigil-operator/vigil/internal/capture"
)

// RSMF wrapper headers (Relativity's RSMF field reference). Only the
// version is required; the others populate review fields.
const (
	HeaderRSMFVersion           = "X-RSMF-Version"
	HeaderRSMFGenerator         = "X-RSMF-Generator"
	HeaderRSMFBeginDate         = "X-RSMF-BeginDate"
	HeaderRSMFEndDate           = "X-RSMF-EndDate"
	HeaderRSMFEventCount        = "X-RSMF-EventCount"
	HeaderRSMFApplication       = "X-RSMF-Application"
	HeaderRSMFCustodian         = "X-RSMF-Custodian"
	HeaderRSMFParticipants      = "X-RSMF-Participants"
	HeaderRSMFAttachmentCount   = "X-RSMF-AttachmentCount"
	HeaderRSMFEventCollectionID = "X-RSMF-EventCollectionID"
)

// rsmfZipName is the one attachment of an RSMF file, named exactly so.
const rsmfZipName = "rsmf.zip"

// MaxRSMFZipBytes bounds the rsmf.zip ReadRSMF decodes into memory;
// Relativity does not process RSMF files over 2 GB either.
const MaxRSMFZipBytes = 1 << 30

// writeRSMFFiles writes one .rsmf per slice and points each record at the
// file that holds it. A slice's records are released once it is written.
func (x *exporter) writeRSMFFiles() error {
	for _, k := range x.rsmf.keys() {
		s := buildRSMFSlice(k, x.rsmf.slices[k])
		p := rsmfPath(k)
		if err := x.writeFile(p, func(w io.Writer) error { return x.writeRSMF(w, s) }); err != nil {
			return err
		}
		for _, e := range s.entries {
			x.records[e].RSMF = p
		}
		delete(x.rsmf.slices, k)
	}
	return nil
}

// writeRSMF writes an RSMF file: an RFC 5322 message with the X-RSMF
// headers, a plain-text transcript (what platforms index when they do not
// read RSMF) and exactly one attachment, rsmf.zip, base64-encoded, holding
// rsmf_manifest.json and the attachment files at its root.
func (x *exporter) writeRSMF(w io.Writer, s *rsmfSlice) error {
	m := s.manifest
	conv := m.Conversations[0]
	display := make(map[string]string, len(m.Participants))
	var to, names []string
	from := "Vigil <export@vigil.invalid>"
	for _, p := range m.Participants {
		display[p.ID] = p.Display
		addr := address(capture.Participant{ID: p.AccountID, DisplayName: p.Display}, s.key.Channel)
		if p.ID == conv.Custodian {
			from = addr
		}
		names = append(names, p.Display)
		if p.AccountID != "" {
			// The "(system)" participant has no mailbox to name.
			to = append(to, addr)
		}
	}
	var h headers
	h.add("From", from)
	if len(to) > 0 {
		h.add("To", strings.Join(to, ", "))
	}
	begin, end := m.Events[0].Timestamp, m.Events[len(m.Events)-1].Timestamp
	h.add("Date", mailDate(s.begin))
	h.text("Subject", fmt.Sprintf("%s: %s, %s (UTC)", s.key.Channel, conv.Display, s.key.Day))
	h.add("Message-ID", "<"+shortHash(x.opts.ExportID+"\x00"+s.key.String(), 32)+".rsmf@vigil.invalid>")
	h.add("MIME-Version", "1.0")
	h.add(HeaderRSMFVersion, RSMFVersion)
	h.text(HeaderRSMFGenerator, x.opts.Generator)
	h.add(HeaderRSMFBeginDate, begin)
	h.add(HeaderRSMFEndDate, end)
	h.add(HeaderRSMFEventCount, strconv.Itoa(len(m.Events)))
	h.text(HeaderRSMFApplication, s.key.Channel)
	if s.custodian != "" {
		h.text(HeaderRSMFCustodian, s.custodian)
	}
	h.text(HeaderRSMFParticipants, strings.Join(names, ", "))
	h.add(HeaderRSMFAttachmentCount, strconv.Itoa(len(s.attachments)))
	h.add(HeaderRSMFEventCollectionID, m.EventCollectionID)
	h.text(HeaderExportID, x.opts.ExportID)
	b := boundary("rsmf\x00" + x.opts.ExportID + "\x00" + s.key.String())
	h.add("Content-Type", multipartHeader(b))
	if _, err := fmt.Fprintf(w, "%s\r\nThis is a multi-part message in MIME format.\r\n", h.b.Bytes()); err != nil {
		return err
	}
	if err := writeBoundary(w, b, false); err != nil {
		return err
	}
	if err := writeTextBody(w, transcript(m, display)); err != nil {
		return err
	}
	if err := writeBoundary(w, b, false); err != nil {
		return err
	}
	if _, err := io.WriteString(w, attachmentHeaders("application/zip", rsmfZipName)); err != nil {
		return err
	}
	bw := newBase64Writer(w)
	if err := x.writeRSMFZip(bw, s); err != nil {
		return err
	}
	if err := bw.Close(); err != nil {
		return err
	}
	return writeBoundary(w, b, true)
}

// writeRSMFZip streams rsmf.zip: the manifest first, then the attachments
// in event order.
func (x *exporter) writeRSMFZip(w io.Writer, s *rsmfSlice) error {
	zw := zip.NewWriter(w)
	add := func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: x.opts.CreatedAt})
	}
	mw, err := add(RSMFManifestFile)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(mw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s.manifest); err != nil {
		return fmt.Errorf("encoding %s: %w", RSMFManifestFile, err)
	}
	for _, a := range s.attachments {
		aw, err := add(a.name)
		if err != nil {
			return err
		}
		rc, err := x.openAttachment(a.rec, a.index)
		if err != nil {
			return err
		}
		_, err = io.Copy(aw, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return zw.Close()
}

// transcript is the wrapper's text body: one line per event, for people and
// for platforms that index the EML but do not read RSMF.
func transcript(m *RSMFManifest, display map[string]string) string {
	var b strings.Builder
	c := m.Conversations[0]
	fmt.Fprintf(&b, "%s conversation %s\n\n", c.Platform, c.Display)
	for _, e := range m.Events {
		fmt.Fprintf(&b, "[%s] %s: %s", e.Timestamp, orDefault(display[e.Participant], "(unknown)"), e.Body)
		var notes []string
		if len(e.Edits) > 0 {
			notes = append(notes, fmt.Sprintf("edits: %d", len(e.Edits)))
		}
		if e.Deleted {
			notes = append(notes, "recalled")
		}
		for _, r := range e.Reactions {
			notes = append(notes, fmt.Sprintf("%s ×%d", r.Value, r.Count))
		}
		for _, a := range e.Attachments {
			notes = append(notes, "attachment "+a.Display)
		}
		if len(notes) > 0 {
			b.WriteString(" (" + strings.Join(notes, "; ") + ")")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// RSMFFile is an RSMF file as read back.
type RSMFFile struct {
	Header   mail.Header
	Manifest *RSMFManifest
	// Files are the names in rsmf.zip, the manifest's included.
	Files map[string]bool
}

// ReadRSMF parses an RSMF file and checks it against the specification: an
// RFC 5322 message with X-RSMF-Version, exactly one attachment, named
// rsmf.zip and base64-encoded, whose zip holds a valid rsmf_manifest.json at
// its root and every file the manifest names; X-RSMF-EventCount, when
// present, must count the events.
func ReadRSMF(r io.Reader) (*RSMFFile, error) {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return nil, fmt.Errorf("%w: not an RFC 5322 message: %v", ErrInvalidRSMF, err)
	}
	if msg.Header.Get(HeaderRSMFVersion) == "" {
		return nil, fmt.Errorf("%w: no X-RSMF-Version header", ErrInvalidRSMF)
	}
	zipBytes, err := rsmfAttachment(msg)
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		return nil, fmt.Errorf("%w: rsmf.zip: %v", ErrInvalidRSMF, err)
	}
	f := &RSMFFile{Header: msg.Header, Files: map[string]bool{}}
	var manifest *zip.File
	for _, zf := range zr.File {
		if !fs.ValidPath(zf.Name) || f.Files[zf.Name] {
			return nil, fmt.Errorf("%w: rsmf.zip: entry %q is not a valid name or is repeated", ErrInvalidRSMF, truncate(zf.Name))
		}
		f.Files[zf.Name] = true
		if zf.Name == RSMFManifestFile {
			manifest = zf
		}
	}
	if manifest == nil {
		return nil, fmt.Errorf("%w: rsmf.zip has no %s at its root", ErrInvalidRSMF, RSMFManifestFile)
	}
	rc, err := manifest.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: rsmf.zip: %v", ErrInvalidRSMF, err)
	}
	m, err := ParseRSMFManifest(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	if err := ValidateRSMFManifest(m, f.Files); err != nil {
		return nil, err
	}
	f.Manifest = m
	if c := msg.Header.Get(HeaderRSMFEventCount); c != "" && c != strconv.Itoa(len(m.Events)) {
		return nil, fmt.Errorf("%w: X-RSMF-EventCount is %s but the manifest has %d events", ErrInvalidRSMF, truncate(c), len(m.Events))
	}
	for _, hd := range []string{HeaderRSMFBeginDate, HeaderRSMFEndDate} {
		if v := msg.Header.Get(hd); v != "" && !validRSMFTime(v) {
			return nil, fmt.Errorf("%w: %s %q is not ISO 8601", ErrInvalidRSMF, hd, truncate(v))
		}
	}
	return f, nil
}

// rsmfAttachment finds the one attachment of an RSMF message and decodes it.
func rsmfAttachment(msg *mail.Message) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return nil, fmt.Errorf("%w: the message is not multipart, so it has no rsmf.zip", ErrInvalidRSMF)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var found []byte
	attachments := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: reading the MIME parts: %v", ErrInvalidRSMF, err)
		}
		disp, dparams, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		if err != nil || disp != "attachment" {
			continue
		}
		attachments++
		if dparams["filename"] != rsmfZipName {
			return nil, fmt.Errorf("%w: an attachment is named %q; the only attachment must be %s", ErrInvalidRSMF, truncate(dparams["filename"]), rsmfZipName)
		}
		if !strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			return nil, fmt.Errorf("%w: rsmf.zip is not base64-encoded", ErrInvalidRSMF)
		}
		found, err = io.ReadAll(io.LimitReader(base64.NewDecoder(base64.StdEncoding, p), MaxRSMFZipBytes+1))
		if err != nil {
			return nil, fmt.Errorf("%w: decoding rsmf.zip: %v", ErrInvalidRSMF, err)
		}
		if len(found) > MaxRSMFZipBytes {
			return nil, fmt.Errorf("%w: rsmf.zip is larger than %d bytes", ErrInvalidRSMF, MaxRSMFZipBytes)
		}
	}
	if attachments != 1 || found == nil {
		return nil, fmt.Errorf("%w: %d attachments; an RSMF file has exactly one, rsmf.zip", ErrInvalidRSMF, attachments)
	}
	return found, nil
}
