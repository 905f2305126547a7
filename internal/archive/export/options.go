package export

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/version"
)

// Format is a rendition an export can contain besides the natives.
type Format string

// Formats.
const (
	// FormatRSMF is Relativity Short Message Format 2.0.0: one .rsmf file
	// per conversation per UTC day.
	FormatRSMF Format = "rsmf"
	// FormatEML is one RFC 5322 message per record.
	FormatEML Format = "eml"
	// FormatDAT is a Concordance DAT load file with extracted text files.
	FormatDAT Format = "dat"
)

// AllFormats lists every format, in the order the manifest names them.
var AllFormats = []Format{FormatRSMF, FormatEML, FormatDAT}

// ErrInvalidOptions wraps every refusal of Options.
var ErrInvalidOptions = errors.New("export: invalid options")

// Metadata describes the export for the manifest and the chain of custody.
type Metadata struct {
	// ExportID names this export (a matter's production number, say).
	ExportID string `json:"exportID"`
	// Matter is the legal matter or case the export was made for.
	Matter string `json:"matter,omitempty"`
	// Actor is who asked for the export.
	Actor string `json:"actor"`
	// CreatedAt is when the export was made. It is also the timestamp of
	// every file in a zip export, so it must be given, not taken from the
	// clock, for the output to be reproducible.
	CreatedAt time.Time `json:"createdAt"`
	// Query is the query that selected the records, stored as given.
	Query string `json:"query,omitempty"`
}

// Options configures Export.
type Options struct {
	Metadata
	// Formats are the renditions to write; the natives and the manifest are
	// always written.
	Formats []Format
	// Origin is the log's origin, the first line of its checkpoints.
	Origin string
	// Checkpoint is the signed checkpoint note every proof is against. Its
	// size must cover every exported leaf.
	Checkpoint []byte
	// Verifiers check the checkpoint's signature before anything is
	// written; at least one is required.
	Verifiers []*tlog.Verifier
	// Proofs supplies the inclusion proofs.
	Proofs ProofSource
	// Attachments supplies attachment content; nil exports attachment
	// descriptions only.
	Attachments AttachmentSource
	// BatesPrefix starts every control number (BEGBATES); "VIGIL" when empty.
	BatesPrefix string
	// BatesStart is the first control number; 1 when zero.
	BatesStart uint64
	// Generator names the producing software in X-RSMF-Generator and the
	// manifest; "vigil <version>" when empty.
	Generator string
}

// Limits on the metadata: it is copied into headers and load files.
const (
	maxMetaBytes  = 512
	maxQueryBytes = 64 << 10
)

// batesPrefixRE keeps control numbers to characters every review platform
// accepts in a file name and a Bates field.
var batesPrefixRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

// withDefaults returns the options with defaults filled in.
func (o Options) withDefaults() Options {
	if o.BatesPrefix == "" {
		o.BatesPrefix = "VIGIL"
	}
	if o.BatesStart == 0 {
		o.BatesStart = 1
	}
	if o.Generator == "" {
		o.Generator = "vigil " + version.String()
	}
	o.CreatedAt = o.CreatedAt.UTC()
	return o
}

// validate checks options after defaults are filled in.
func (o *Options) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, args...))
	}
	switch {
	case !validMeta(o.ExportID, true):
		return bad("the export id must be 1 to %d bytes of printable UTF-8", maxMetaBytes)
	case !validMeta(o.Actor, true):
		return bad("the actor must be 1 to %d bytes of printable UTF-8", maxMetaBytes)
	case !validMeta(o.Matter, false):
		return bad("the matter must be at most %d bytes of printable UTF-8", maxMetaBytes)
	case !validMeta(o.Generator, true):
		return bad("the generator must be 1 to %d bytes of printable UTF-8", maxMetaBytes)
	case len(o.Query) > maxQueryBytes || !utf8.ValidString(o.Query):
		return bad("the query must be at most %d bytes of UTF-8", maxQueryBytes)
	case o.CreatedAt.IsZero():
		return bad("the creation time is required")
	case o.CreatedAt.Year() < 1980 || o.CreatedAt.Year() > 2107:
		// The zip format cannot date a file outside these years.
		return bad("the creation time %s is outside 1980..2107", o.CreatedAt.Format(time.RFC3339))
	case o.Origin == "":
		return bad("the log origin is required")
	case len(o.Checkpoint) == 0:
		return bad("the signed checkpoint is required")
	case len(o.Verifiers) == 0:
		return bad("at least one checkpoint verifier is required")
	case o.Proofs == nil:
		return bad("a proof source is required")
	case !batesPrefixRE.MatchString(o.BatesPrefix):
		return bad("the Bates prefix %q must be 1 to 32 letters, digits, '_', '.' or '-'", truncate(o.BatesPrefix))
	}
	seen := map[Format]bool{}
	for _, f := range o.Formats {
		if !slices.Contains(AllFormats, f) {
			return bad("unknown format %q (known: rsmf, eml, dat)", truncate(string(f)))
		}
		if seen[f] {
			return bad("format %q given twice", f)
		}
		seen[f] = true
	}
	return nil
}

// validMeta accepts printable UTF-8 of bounded length: these values end up
// in mail headers and load-file fields, where control characters would
// break the format or inject lines.
func validMeta(s string, required bool) bool {
	if (required && s == "") || len(s) > maxMetaBytes || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// has reports whether the format was asked for.
func (o *Options) has(f Format) bool { return slices.Contains(o.Formats, f) }

// sortedFormats is the formats in canonical order, for the manifest.
func (o *Options) sortedFormats() []Format {
	out := make([]Format, 0, len(o.Formats))
	for _, f := range AllFormats {
		if o.has(f) {
			out = append(out, f)
		}
	}
	return out
}

func truncate(s string) string {
	if len(s) > 60 {
		s = s[:60]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return s + "..."
	}
	return s
}
