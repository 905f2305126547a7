package export

import (
	"fmt"
	"io"
	"strings"
)

// ProblemKind names a class of problem, stable for machines reading JSON.
type ProblemKind string

// The kinds of problem Verify reports.
const (
	// ProblemManifest: manifest.json or manifest.sha256 is missing,
	// malformed, or the manifest does not hash to manifest.sha256.
	ProblemManifest ProblemKind = "manifest"
	// ProblemFileMissing: a file the manifest lists is not in the export.
	ProblemFileMissing ProblemKind = "file-missing"
	// ProblemFileExtra: a file in the export is not in the manifest, or is
	// not a regular file.
	ProblemFileExtra ProblemKind = "file-extra"
	// ProblemFileHash: a file's size or SHA-256 differs from the manifest.
	ProblemFileHash ProblemKind = "file-hash"
	// ProblemCheckpoint: the checkpoint does not verify with the pinned
	// key and origin.
	ProblemCheckpoint ProblemKind = "checkpoint"
	// ProblemRecord: a record's native or findings bytes, or its leaf,
	// differ from what the log commits to.
	ProblemRecord ProblemKind = "record"
	// ProblemProof: a leaf's inclusion proof does not lead to the
	// checkpoint's root.
	ProblemProof ProblemKind = "proof"
	// ProblemAttachment: exported attachment content differs from the hash
	// its record carries.
	ProblemAttachment ProblemKind = "attachment"
	// ProblemDAT, ProblemEML, ProblemRSMF: a rendition is malformed or does
	// not refer to the manifest's records one for one.
	ProblemDAT  ProblemKind = "dat"
	ProblemEML  ProblemKind = "eml"
	ProblemRSMF ProblemKind = "rsmf"
)

// Problem is one finding: what is wrong and where.
type Problem struct {
	Kind  ProblemKind `json:"kind"`
	Where string      `json:"where"`
	What  string      `json:"what"`
}

func (p Problem) String() string { return fmt.Sprintf("%s: %s: %s", p.Kind, p.Where, p.What) }

// VerifyCounts are what was examined.
type VerifyCounts struct {
	Files       int `json:"files"`
	Records     int `json:"records"`
	Attachments int `json:"attachments"`
	DATRows     int `json:"datRows"`
	EML         int `json:"eml"`
	RSMF        int `json:"rsmf"`
	RSMFEvents  int `json:"rsmfEvents"`
}

// Report is the outcome of verifying one export.
type Report struct {
	// Source names what was verified (a folder, a zip).
	Source   string `json:"source"`
	ExportID string `json:"exportID,omitempty"`
	// ManifestSHA256 is the hash of manifest.json as found, to compare with
	// the completing records.export audit event that logged the export.
	ManifestSHA256 string `json:"manifestSHA256,omitempty"`
	// Origin, CheckpointSize and CheckpointRoot describe the checkpoint
	// when it verified.
	Origin         string       `json:"origin,omitempty"`
	CheckpointSize uint64       `json:"checkpointSize,omitempty"`
	CheckpointRoot string       `json:"checkpointRoot,omitempty"`
	Counts         VerifyCounts `json:"counts"`
	Problems       []Problem    `json:"problems"`
	// Notes say what was not verified; they are not problems.
	Notes []string `json:"notes"`
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Kinds counts the problems of each kind.
func (r *Report) Kinds() map[ProblemKind]int {
	kinds := map[ProblemKind]int{}
	for _, p := range r.Problems {
		kinds[p.Kind]++
	}
	return kinds
}

func (r *Report) problem(kind ProblemKind, where, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Kind: kind, Where: where, What: fmt.Sprintf(format, args...)})
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// WriteText writes the report for people, one line per problem.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "vigil verify --export: %s\n", r.Source)
	if r.ExportID != "" {
		fmt.Fprintf(&b, "export:        %s\n", r.ExportID)
	}
	if r.ManifestSHA256 != "" {
		fmt.Fprintf(&b, "manifest:      sha256 %s\n", r.ManifestSHA256)
	}
	if r.Origin != "" {
		fmt.Fprintf(&b, "checkpoint:    %s, size %d, root %s\n", r.Origin, r.CheckpointSize, r.CheckpointRoot)
	}
	c := r.Counts
	fmt.Fprintf(&b, "files:         %d\n", c.Files)
	fmt.Fprintf(&b, "records:       %d (%d attachments)\n", c.Records, c.Attachments)
	fmt.Fprintf(&b, "renditions:    %d DAT rows, %d EML, %d RSMF files with %d events\n", c.DATRows, c.EML, c.RSMF, c.RSMFEvents)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if r.OK() {
		b.WriteString("OK: no problem found\n")
	} else {
		fmt.Fprintf(&b, "%d PROBLEMS:\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
