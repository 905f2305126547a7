package export

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/capture"
)

// VerifyDir verifies the export in a folder.
func VerifyDir(ctx context.Context, dir, origin string, verifiers []*tlog.Verifier) (*Report, error) {
	r, err := Verify(ctx, os.DirFS(dir), origin, verifiers)
	if r != nil {
		r.Source = dir
	}
	return r, err
}

// VerifyZip verifies an export written as one zip. Besides Verify's checks
// it refuses entries with unsafe or repeated names, which a folder cannot
// have but a zip can.
func VerifyZip(ctx context.Context, ra io.ReaderAt, size int64, origin string, verifiers []*tlog.Verifier) (*Report, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		r := &Report{Source: "zip", Problems: []Problem{}, Notes: []string{}}
		r.problem(ProblemManifest, "zip", "not a readable zip: %v", err)
		return r, nil
	}
	r, err := Verify(ctx, zr, origin, verifiers)
	if r == nil {
		return nil, err
	}
	r.Source = "zip"
	seen := map[string]bool{}
	for _, f := range zr.File {
		if !fs.ValidPath(f.Name) || seen[f.Name] {
			r.problem(ProblemFileExtra, f.Name, "the zip entry's name is not a clean relative path, or is repeated")
		}
		seen[f.Name] = true
	}
	return r, err
}

// Verify checks an export against its manifest and the log, pinning the
// log's origin and verifier keys (handed over out of band, never read from
// the export). It lists every problem found rather than stopping at the
// first; the error is only for verification that could not run (a
// cancelled context). The checks:
//
//   - manifest.json hashes to manifest.sha256 and is well formed;
//   - every listed file is present with its size and SHA-256, and no other
//     file is present;
//   - the checkpoint verifies with the pinned keys and origin;
//   - each record's leaf is a canonical record leaf for that record and
//     account whose recordSHA256 and findingsSHA256 are the hashes of the
//     native files, and its inclusion proof leads to the checkpoint's root;
//   - exported attachment content hashes to what its record says;
//   - the DAT rows, EML messages and RSMF events name exactly the
//     manifest's records, with matching control numbers, leaf indexes,
//     hashes and paths, and the RSMF files meet the RSMF 2.0 specification.
func Verify(ctx context.Context, fsys fs.FS, origin string, verifiers []*tlog.Verifier) (*Report, error) {
	v := &verification{ctx: ctx, fsys: fsys, r: &Report{Source: "export", Problems: []Problem{}, Notes: []string{}}}
	if err := v.run(origin, verifiers); err != nil {
		return nil, err
	}
	return v.r, nil
}

type verification struct {
	ctx  context.Context
	fsys fs.FS
	r    *Report
	m    *Manifest
	// found is the size and SHA-256 of each listed file as it is.
	found map[string]FileEntry
	cp    *tlog.Checkpoint
	// leaves[i] is the parsed leaf of m.Records[i]; valid[i] is false when
	// it does not parse.
	leaves []store.Leaf
	valid  []bool
	// buf is the copy buffer for hashing, reused across files.
	buf []byte
}

func (v *verification) run(origin string, verifiers []*tlog.Verifier) error {
	if !v.readManifest() {
		return nil
	}
	v.r.ExportID = v.m.ExportID
	if err := v.checkFiles(); err != nil {
		return err
	}
	v.checkCheckpoint(origin, verifiers)
	if err := v.checkRecords(); err != nil {
		return err
	}
	v.checkReferences()
	if slices.Contains(v.m.Formats, FormatDAT) {
		v.checkDAT()
	}
	if slices.Contains(v.m.Formats, FormatEML) {
		if err := v.checkEML(); err != nil {
			return err
		}
	}
	if slices.Contains(v.m.Formats, FormatRSMF) {
		if err := v.checkRSMF(); err != nil {
			return err
		}
	}
	return nil
}

// readManifest reads and checks the manifest; without one nothing else can
// be checked.
func (v *verification) readManifest() bool {
	body, err := v.readFile(ManifestFile, MaxManifestBytes)
	if err != nil {
		v.r.problem(ProblemManifest, ManifestFile, "%v", err)
		return false
	}
	sum := sha256Hex(body)
	v.r.ManifestSHA256 = sum
	if line, err := v.readFile(ManifestSHA256File, 1024); err != nil {
		v.r.problem(ProblemManifest, ManifestSHA256File, "%v", err)
	} else if want, err := parseManifestSHA256(line); err != nil {
		v.r.problem(ProblemManifest, ManifestSHA256File, "%v", err)
	} else if want != sum {
		v.r.problem(ProblemManifest, ManifestFile, "hashes to %s, %s says %s: the manifest was altered", sum, ManifestSHA256File, want)
	}
	m, err := ReadManifest(bytes.NewReader(body))
	if err != nil {
		v.r.problem(ProblemManifest, ManifestFile, "%v", err)
		return false
	}
	v.m = m
	return true
}

// readFile reads a whole file of at most limit bytes.
func (v *verification) readFile(name string, limit int64) ([]byte, error) {
	f, err := v.fsys.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errors.New("missing")
		}
		return nil, fmt.Errorf("unreadable: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("unreadable: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// checkFiles hashes every file present and compares the set and the hashes
// with the manifest.
func (v *verification) checkFiles() error {
	listed := make(map[string]FileEntry, len(v.m.Files))
	for _, f := range v.m.Files {
		listed[f.Path] = f
	}
	v.found = make(map[string]FileEntry, len(v.m.Files))
	v.buf = make([]byte, 64<<10)
	unreadable := map[string]bool{}
	err := fs.WalkDir(v.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			v.r.problem(ProblemFileExtra, p, "unreadable: %v", err)
			return nil
		}
		if cerr := v.ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() || p == ManifestFile || p == ManifestSHA256File {
			return nil
		}
		if !d.Type().IsRegular() {
			v.r.problem(ProblemFileExtra, p, "not a regular file (%s)", d.Type())
			return nil
		}
		want, ok := listed[p]
		if !ok {
			v.r.problem(ProblemFileExtra, p, "not listed in the manifest: added after the export was made")
			return nil
		}
		got, err := hashFile(v.fsys, p, v.buf)
		if err != nil {
			unreadable[p] = true
			v.r.problem(ProblemFileHash, p, "unreadable: %v", err)
			return nil
		}
		v.found[p] = got
		v.r.Counts.Files++
		if got.Size != want.Size || got.SHA256 != want.SHA256 {
			v.r.problem(ProblemFileHash, p, "%d bytes with sha256 %s, the manifest says %d bytes with sha256 %s", got.Size, got.SHA256, want.Size, want.SHA256)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("export: verifying: %w", err)
	}
	for _, f := range v.m.Files {
		// A file that is there but could not be hashed is reported already.
		if _, ok := v.found[f.Path]; !ok && !unreadable[f.Path] {
			v.r.problem(ProblemFileMissing, f.Path, "listed in the manifest but not in the export")
		}
	}
	return nil
}

// hashFile hashes one file through buf; a nil buf allocates one.
func hashFile(fsys fs.FS, p string, buf []byte) (FileEntry, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return FileEntry{}, err
	}
	defer f.Close()
	h := sha256.New()
	// Hide any WriterTo, which would copy through a buffer of its own.
	n, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf)
	if err != nil {
		return FileEntry{}, err
	}
	return FileEntry{Path: p, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// checkCheckpoint opens the checkpoint with the pinned keys and origin.
func (v *verification) checkCheckpoint(origin string, verifiers []*tlog.Verifier) {
	if v.m.Origin != origin {
		v.r.problem(ProblemCheckpoint, ManifestFile, "the manifest names origin %q, the pinned origin is %q", truncate(v.m.Origin), truncate(origin))
	}
	cp, _, err := tlog.OpenCheckpoint([]byte(v.m.Checkpoint), origin, verifiers)
	if err != nil {
		v.r.problem(ProblemCheckpoint, "checkpoint", "%v", err)
		v.r.note("inclusion proofs not checked: there is no verified checkpoint to check them against")
		return
	}
	v.cp = &cp
	v.r.Origin, v.r.CheckpointSize, v.r.CheckpointRoot = cp.Origin, cp.Size, cp.Root.String()
}

// checkRecords checks each record's natives, leaf, proof and attachments.
func (v *verification) checkRecords() error {
	v.leaves = make([]store.Leaf, len(v.m.Records))
	v.valid = make([]bool, len(v.m.Records))
	leafOwner := map[uint64]string{}
	bates := map[string]string{}
	unhashedAttachment := false
	for i := range v.m.Records {
		if err := v.ctx.Err(); err != nil {
			return fmt.Errorf("export: verifying: %w", err)
		}
		e := &v.m.Records[i]
		v.r.Counts.Records++
		where := "record " + e.ID
		if other, ok := leafOwner[e.LeafIndex]; ok {
			v.r.problem(ProblemRecord, where, "leaf %d is also claimed by record %s", e.LeafIndex, other)
		}
		leafOwner[e.LeafIndex] = e.ID
		if other, ok := bates[e.Bates]; ok || e.Bates == "" {
			v.r.problem(ProblemRecord, where, "control number %q is empty or also that of record %s", e.Bates, other)
		}
		bates[e.Bates] = e.ID
		leaf, err := parseRecordLeaf(e.Leaf)
		if err != nil {
			v.r.problem(ProblemRecord, where, "leaf %d: %v", e.LeafIndex, err)
		} else {
			v.leaves[i], v.valid[i] = leaf, true
			// A file that is missing is reported as such; comparing its
			// absent hash would only say the same again.
			nativeSHA, findingsSHA := leaf.RecordSHA256, leaf.FindingsSHA256
			if f, ok := v.found[e.Native]; ok {
				nativeSHA = f.SHA256
			}
			if e.Findings == "" {
				findingsSHA = ""
			} else if f, ok := v.found[e.Findings]; ok {
				findingsSHA = f.SHA256
			}
			for _, d := range leafDiffs(leaf, e.ID, e.Account, nativeSHA, findingsSHA) {
				v.r.problem(ProblemRecord, where, "%s (leaf %d)", d, e.LeafIndex)
			}
		}
		if v.cp != nil {
			if err := tlog.VerifyInclusion(tlog.LeafHash(e.Leaf), e.LeafIndex, v.cp.Size, e.Proof, v.cp.Root); err != nil {
				v.r.problem(ProblemProof, where, "leaf %d: %v", e.LeafIndex, err)
			}
		}
		rec, err := v.readRecord(e.Native)
		if err != nil {
			if _, present := v.found[e.Native]; present {
				v.r.problem(ProblemRecord, where, "%s: %v", e.Native, err)
			}
			continue
		}
		if rec.ID != e.ID {
			v.r.problem(ProblemRecord, where, "%s holds record %q", e.Native, truncate(rec.ID))
		}
		for _, a := range e.Attachments {
			v.r.Counts.Attachments++
			if a.Index >= len(rec.Attachments) {
				v.r.problem(ProblemAttachment, a.Path, "the record has no attachment %d", a.Index)
				continue
			}
			want := strings.ToLower(rec.Attachments[a.Index].SHA256)
			got, ok := v.found[a.Path]
			switch {
			case !ok:
			case want == "":
				unhashedAttachment = true
			case got.SHA256 != want:
				v.r.problem(ProblemAttachment, a.Path, "hashes to %s, record %s says attachment %d is %s", got.SHA256, e.ID, a.Index, want)
			}
		}
	}
	if unhashedAttachment {
		v.r.note("some attachments carry no SHA-256 in their record; their content is checked against the manifest only")
	}
	return nil
}

// readRecord decodes a native record file.
func (v *verification) readRecord(p string) (*capture.Record, error) {
	b, err := v.readFile(p, capture.MaxEncodedRecord)
	if err != nil {
		return nil, err
	}
	rec := new(capture.Record)
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("not a capture record: %v", err)
	}
	return rec, nil
}

// checkReferences requires every listed file to belong to a record or to
// the load file, so that nothing unaccounted for rides along.
func (v *verification) checkReferences() {
	used := map[string]bool{DATFile: slices.Contains(v.m.Formats, FormatDAT)}
	for _, e := range v.m.Records {
		for _, p := range []string{e.Native, e.Findings, e.Text, e.EML, e.RSMF} {
			used[p] = true
		}
		for _, a := range e.Attachments {
			used[a.Path] = true
		}
	}
	for _, f := range v.m.Files {
		if !used[f.Path] {
			v.r.problem(ProblemManifest, f.Path, "listed in the manifest but no record refers to it")
		}
	}
}
