package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// ManifestFormat is the value of Manifest.Format this package writes and reads.
const ManifestFormat = "vigil.export/v1"

// MaxManifestBytes bounds the manifest a verifier reads (about a million
// records).
const MaxManifestBytes = 2 << 30

// ErrMalformedManifest wraps every reason ReadManifest refuses a manifest.
var ErrMalformedManifest = errors.New("export: malformed manifest")

// Manifest is manifest.json: what an export contains and the evidence that
// its records are the ones the log committed to.
type Manifest struct {
	Format string `json:"format"`
	Metadata
	// Formats are the renditions present besides the natives.
	Formats   []Format `json:"formats"`
	Generator string   `json:"generator"`
	// Origin and Checkpoint are the log's origin and the signed checkpoint
	// note, verbatim, that every inclusion proof is against.
	Origin      string `json:"origin"`
	Checkpoint  string `json:"checkpoint"`
	BatesPrefix string `json:"batesPrefix"`
	// Records are in export order, which is also Bates order.
	Records []RecordEntry `json:"records"`
	// Files are every file of the export except manifest.json and
	// manifest.sha256, sorted by path.
	Files []FileEntry `json:"files"`
}

// RecordEntry is one exported record.
type RecordEntry struct {
	ID        string `json:"id"`
	Account   string `json:"account"`
	Custodian string `json:"custodian,omitempty"`
	// Bates is the record's control number (BEGBATES and ENDBATES).
	Bates     string `json:"bates"`
	LeafIndex uint64 `json:"leafIndex"`
	// Leaf is the canonical leaf bytes (base64 in JSON).
	Leaf []byte `json:"leaf"`
	// Proof is the inclusion proof of the leaf in the checkpoint's tree,
	// base64 hashes in RFC 6962 order.
	Proof []tlog.Hash `json:"proof"`
	// Paths of the record's files; Findings is empty when the record has
	// no findings, and a rendition's path is empty when it was not asked for.
	Native   string `json:"native"`
	Findings string `json:"findings,omitempty"`
	Text     string `json:"text,omitempty"`
	EML      string `json:"eml,omitempty"`
	RSMF     string `json:"rsmf,omitempty"`
	// Attachments are the attachments whose content was exported.
	Attachments []AttachmentEntry `json:"attachments,omitempty"`
}

// AttachmentEntry points at exported attachment content.
type AttachmentEntry struct {
	// Index is the attachment's position in the record's attachments.
	Index int    `json:"index"`
	Path  string `json:"path"`
}

// FileEntry is one file of the export.
type FileEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// manifestHead is the manifest without its two long lists, in the same
// field order.
type manifestHead struct {
	Format string `json:"format"`
	Metadata
	Formats     []Format `json:"formats"`
	Generator   string   `json:"generator"`
	Origin      string   `json:"origin"`
	Checkpoint  string   `json:"checkpoint"`
	BatesPrefix string   `json:"batesPrefix"`
}

// encode is the manifest's bytes: indented JSON with one record and one
// file a line, readable in a text editor and searchable with grep, and HTML
// characters left alone. Indenting the whole document with the encoder
// costs more than the rest of a large export, so the lists are laid out here.
func (m *Manifest) encode() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	head := manifestHead{Format: m.Format, Metadata: m.Metadata, Formats: m.Formats, Generator: m.Generator,
		Origin: m.Origin, Checkpoint: m.Checkpoint, BatesPrefix: m.BatesPrefix}
	if err := enc.Encode(head); err != nil {
		return nil, fmt.Errorf("export: encoding the manifest: %w", err)
	}
	b.Truncate(b.Len() - len("\n}\n"))
	enc.SetIndent("", "")
	list := func(name string, n int, item func(i int) any) error {
		fmt.Fprintf(&b, ",\n  %q: [", name)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n    ")
			if err := enc.Encode(item(i)); err != nil {
				return fmt.Errorf("export: encoding the manifest's %s: %w", name, err)
			}
			b.Truncate(b.Len() - 1)
		}
		if n > 0 {
			b.WriteString("\n  ")
		}
		b.WriteByte(']')
		return nil
	}
	if err := list("records", len(m.Records), func(i int) any { return &m.Records[i] }); err != nil {
		return nil, err
	}
	if err := list("files", len(m.Files), func(i int) any { return &m.Files[i] }); err != nil {
		return nil, err
	}
	b.WriteString("\n}\n")
	return b.Bytes(), nil
}

// ReadManifest parses and checks a manifest strictly: unknown fields, a
// second JSON value, duplicate or invalid paths, duplicate record ids and
// references to files the manifest does not list are all refused. It checks
// structure only; Verify checks the content against it.
func ReadManifest(r io.Reader) (*Manifest, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("export: reading the manifest: %w", err)
	}
	if len(b) > MaxManifestBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformedManifest, MaxManifestBytes)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedManifest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the manifest object", ErrMalformedManifest)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedManifest, err)
	}
	return &m, nil
}

// check is the structural validation of ReadManifest.
func (m *Manifest) check() error {
	if m.Format != ManifestFormat {
		return fmt.Errorf("format %q, this vigil reads %q", truncate(m.Format), ManifestFormat)
	}
	if m.ExportID == "" || m.Origin == "" || m.Checkpoint == "" {
		return errors.New("exportID, origin and checkpoint are required")
	}
	if m.CreatedAt.IsZero() {
		return errors.New("createdAt is required")
	}
	seenFormat := map[Format]bool{}
	for _, f := range m.Formats {
		if seenFormat[f] || (f != FormatRSMF && f != FormatEML && f != FormatDAT) {
			return fmt.Errorf("formats: %q is unknown or repeated", truncate(string(f)))
		}
		seenFormat[f] = true
	}
	files := make(map[string]bool, len(m.Files))
	for i, f := range m.Files {
		switch {
		case !fs.ValidPath(f.Path) || f.Path == "." || f.Path == ManifestFile || f.Path == ManifestSHA256File:
			return fmt.Errorf("files[%d]: %q is not a valid file path", i, truncate(f.Path))
		case files[f.Path]:
			return fmt.Errorf("files[%d]: %q listed twice", i, truncate(f.Path))
		case f.Size < 0:
			return fmt.Errorf("files[%d]: negative size", i)
		case !isHexSHA256(f.SHA256):
			return fmt.Errorf("files[%d]: sha256 must be 64 lowercase hex digits", i)
		case i > 0 && m.Files[i-1].Path > f.Path:
			return fmt.Errorf("files[%d]: not sorted by path", i)
		}
		files[f.Path] = true
	}
	if files[DATFile] != seenFormat[FormatDAT] {
		return fmt.Errorf("%s is listed exactly when the export has the DAT format", DATFile)
	}
	ids := make(map[string]bool, len(m.Records))
	for i, r := range m.Records {
		where := fmt.Sprintf("records[%d]", i)
		switch {
		case r.ID == "":
			return fmt.Errorf("%s: no id", where)
		case ids[r.ID]:
			return fmt.Errorf("%s: record %q listed twice", where, truncate(r.ID))
		case len(r.Leaf) == 0:
			return fmt.Errorf("%s: no leaf", where)
		case r.Native == "":
			return fmt.Errorf("%s: no native file", where)
		}
		ids[r.ID] = true
		if (r.Text != "") != seenFormat[FormatDAT] || (r.EML != "") != seenFormat[FormatEML] || (r.RSMF != "") != seenFormat[FormatRSMF] {
			return fmt.Errorf("%s: has a text, EML or RSMF path exactly when the export has that format", where)
		}
		for _, p := range []string{r.Native, r.Findings, r.Text, r.EML, r.RSMF} {
			if p != "" && !files[p] {
				return fmt.Errorf("%s: %q is not in the file list", where, truncate(p))
			}
		}
		seenAtt := map[int]bool{}
		for _, a := range r.Attachments {
			if a.Index < 0 || seenAtt[a.Index] || !files[a.Path] {
				return fmt.Errorf("%s: attachment %d is repeated, negative or not in the file list", where, a.Index)
			}
			seenAtt[a.Index] = true
		}
	}
	return nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// manifestSHA256Line is manifest.sha256: the sha256sum line for the
// manifest, so that `sha256sum -c manifest.sha256` checks it.
func manifestSHA256Line(sum string) []byte {
	return []byte(sum + "  " + ManifestFile + "\n")
}

// parseManifestSHA256 reads a manifest.sha256 line and returns the hash.
func parseManifestSHA256(b []byte) (string, error) {
	line := strings.TrimSuffix(string(b), "\n")
	sum, name, ok := strings.Cut(line, "  ")
	if !ok || name != ManifestFile || !isHexSHA256(sum) || strings.Contains(line, "\n") {
		return "", fmt.Errorf("%s is not one line %q", ManifestSHA256File, "<64 hex digits>  "+ManifestFile)
	}
	return sum, nil
}

// formatTime is how every rendition shows a time: ISO 8601 in UTC with
// milliseconds, which RSMF readers and people both parse unambiguously.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
