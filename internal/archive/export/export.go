package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"slices"
	"strings"

	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/capture"
)

// ErrRecordMismatch wraps every refusal of an item whose bytes, leaf or
// proof do not check out: the archive handed over something its log does
// not vouch for, which is a finding in itself and not an I/O failure.
var ErrRecordMismatch = errors.New("export: record does not match the log")

// Result summarizes a finished export.
type Result struct {
	// ManifestSHA256 is the hex SHA-256 of manifest.json: the value an
	// completing records.export audit event records.
	ManifestSHA256 string
	Records        int
	// Files counts every file written, manifest.json and manifest.sha256
	// included; Bytes is their total size.
	Files int
	Bytes int64
	// Checkpoint is the checkpoint every proof in the export is against.
	Checkpoint tlog.Checkpoint
}

// Export writes the records to sink in the formats asked for, with the
// natives, attachments and manifest, and closes the sink. Items are read
// once, in order; the order is the Bates order. Every item is checked before
// anything of it is written: its leaf must be a canonical record leaf for
// the same record and account, committing to the SHA-256 of RecordBytes and
// FindingsBytes, and its inclusion proof must verify against the signed
// checkpoint. On error the sink holds a partial export, which the caller
// discards; no manifest is written for it, so it can never verify.
//
// Memory: the manifest (about 1 KiB a record) and, with RSMF, the records
// themselves are held until the end, because RSMF groups a day's messages
// into one file whatever order they arrive in. Split very large productions
// into several exports (by date range, say).
func Export(ctx context.Context, sink Sink, opts Options, items iter.Seq2[Item, error]) (res *Result, err error) {
	defer func() {
		if cerr := sink.Close(); err == nil && cerr != nil {
			res, err = nil, cerr
		}
	}()
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cp, _, err := tlog.OpenCheckpoint(opts.Checkpoint, opts.Origin, opts.Verifiers)
	if err != nil {
		return nil, fmt.Errorf("export: the checkpoint does not verify: %w", err)
	}
	x := &exporter{
		ctx: ctx, opts: opts, cp: cp, sink: sink,
		paths: map[string]bool{}, ids: map[string]bool{},
		attSums: map[attKey]string{}, rsmf: newRSMFBuilder(),
		bates: opts.BatesStart,
	}
	if opts.has(FormatDAT) {
		encodeDATRow(&x.dat, datFields)
	}
	for it, err := range items {
		if err != nil {
			return nil, fmt.Errorf("export: reading the records: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		if err := x.add(it); err != nil {
			return nil, err
		}
	}
	return x.finish()
}

// exporter is the state of one export in progress.
type exporter struct {
	ctx     context.Context
	opts    Options
	cp      tlog.Checkpoint
	sink    Sink
	files   []FileEntry
	paths   map[string]bool
	records []RecordEntry
	ids     map[string]bool
	bates   uint64
	// dat is the load file, header first; it is written at the end because
	// a zip sink takes one file at a time.
	dat  bytes.Buffer
	rsmf *rsmfBuilder
	// attSums is the SHA-256 of each attachment's first copy, so every
	// later copy (EML part, RSMF zip) must be the same bytes.
	attSums map[attKey]string
}

type attKey struct {
	record string
	index  int
}

// add checks one item and writes its files.
func (x *exporter) add(it Item) error {
	rec, err := x.check(it)
	if err != nil {
		return err
	}
	proof, err := x.opts.Proofs.InclusionProof(x.ctx, it.LeafIndex, x.cp.Size)
	if err != nil {
		return fmt.Errorf("export: fetching the inclusion proof of record %s (leaf %d, size %d): %w", rec.ID, it.LeafIndex, x.cp.Size, err)
	}
	if err := tlog.VerifyInclusion(tlog.LeafHash(it.Leaf), it.LeafIndex, x.cp.Size, proof, x.cp.Root); err != nil {
		return fmt.Errorf("%w: record %s: %w", ErrRecordMismatch, rec.ID, err)
	}
	if proof == nil {
		proof = []tlog.Hash{}
	}
	e := RecordEntry{
		ID: rec.ID, Account: string(it.Record.Account), Custodian: it.Record.Custodian,
		Bates: fmt.Sprintf("%s%08d", x.opts.BatesPrefix, x.bates), LeafIndex: it.LeafIndex,
		Leaf: slices.Clone(it.Leaf), Proof: proof, Native: nativePath(rec.ID),
	}
	x.bates++
	if err := x.writeBytes(e.Native, it.RecordBytes); err != nil {
		return err
	}
	if len(it.FindingsBytes) > 0 {
		e.Findings = findingsPath(rec.ID)
		if err := x.writeBytes(e.Findings, it.FindingsBytes); err != nil {
			return err
		}
	}
	// exported maps an attachment index to its path in the export.
	exported := map[int]string{}
	for i := range rec.Attachments {
		p, err := x.writeAttachment(rec, i)
		if err != nil {
			return err
		}
		if p != "" {
			exported[i] = p
			e.Attachments = append(e.Attachments, AttachmentEntry{Index: i, Path: p})
		}
	}
	recordSHA := sha256Hex(it.RecordBytes)
	if x.opts.has(FormatDAT) {
		e.Text = textPath(rec.ID)
		if err := x.writeBytes(e.Text, append([]byte(utf8BOM), extractedText(rec, &e, exported)...)); err != nil {
			return err
		}
		encodeDATRow(&x.dat, datRow(rec, &e, recordSHA))
	}
	if x.opts.has(FormatEML) {
		e.EML = emlPath(rec.ID)
		if err := x.writeFile(e.EML, func(w io.Writer) error { return x.writeEML(w, rec, &e, recordSHA, exported) }); err != nil {
			return err
		}
	}
	if x.opts.has(FormatRSMF) {
		x.rsmf.add(rec, len(x.records), e.Account, e.Custodian, e.Bates, exported)
	}
	x.records = append(x.records, e)
	return nil
}

// check verifies an item against its leaf and returns the record decoded
// from the committed bytes.
func (x *exporter) check(it Item) (*capture.Record, error) {
	id := it.Record.Record.ID
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: record %q (leaf %d): %s", ErrRecordMismatch, truncate(id), it.LeafIndex, fmt.Sprintf(format, args...))
	}
	leaf, err := parseRecordLeaf(it.Leaf)
	if err != nil {
		return nil, fail("%v", err)
	}
	if diffs := leafDiffs(leaf, id, string(it.Record.Account), sha256Hex(it.RecordBytes), hashOrEmpty(it.FindingsBytes)); len(diffs) > 0 {
		return nil, fail("%s", strings.Join(diffs, "; "))
	}
	if it.LeafIndex >= x.cp.Size {
		return nil, fail("the leaf is not covered by the checkpoint of size %d", x.cp.Size)
	}
	rec := new(capture.Record)
	if err := json.Unmarshal(it.RecordBytes, rec); err != nil {
		return nil, fail("the record bytes are not a capture record: %v", err)
	}
	if rec.ID != id {
		return nil, fail("the record bytes are of record %q", truncate(rec.ID))
	}
	if x.ids[id] {
		return nil, fail("the record is given twice")
	}
	x.ids[id] = true
	return rec, nil
}

// writeAttachment copies attachment i into the export and returns its path,
// or "" when there is no source or the source has no content for it.
func (x *exporter) writeAttachment(rec *capture.Record, i int) (string, error) {
	if x.opts.Attachments == nil {
		return "", nil
	}
	rc, err := x.openAttachment(rec, i)
	if errors.Is(err, ErrAttachmentUnavailable) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer rc.Close()
	p := attachmentPath(rec.ID, i, rec.Attachments[i].Name)
	return p, x.writeFile(p, func(w io.Writer) error { _, err := io.Copy(w, rc); return err })
}

// openAttachment opens attachment i and checks, as it is read, that its
// content is what the record describes and the same as any earlier copy.
func (x *exporter) openAttachment(rec *capture.Record, i int) (io.ReadCloser, error) {
	rc, err := x.opts.Attachments.OpenAttachment(x.ctx, rec.ID, i)
	if err != nil {
		if errors.Is(err, ErrAttachmentUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("export: opening attachment %d of record %s: %w", i, rec.ID, err)
	}
	return &checkedReader{rc: rc, h: sha256.New(), x: x, key: attKey{rec.ID, i}, want: strings.ToLower(rec.Attachments[i].SHA256)}, nil
}

// checkedReader fails the read that reaches the end of an attachment whose
// content does not hash to what the record (which the log commits to) says,
// so that no export ever carries content contradicting its record.
type checkedReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	x    *exporter
	key  attKey
	want string
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF {
		got := hex.EncodeToString(c.h.Sum(nil))
		if c.want != "" && got != c.want {
			return n, fmt.Errorf("%w: attachment %d of record %s hashes to %s, the record says %s", ErrRecordMismatch, c.key.index, c.key.record, got, c.want)
		}
		if prev, ok := c.x.attSums[c.key]; ok && prev != got {
			return n, fmt.Errorf("export: attachment %d of record %s changed between two reads (%s, then %s)", c.key.index, c.key.record, prev, got)
		}
		c.x.attSums[c.key] = got
	}
	return n, err
}

func (c *checkedReader) Close() error { return c.rc.Close() }

// writeBytes writes a whole file.
func (x *exporter) writeBytes(name string, b []byte) error {
	return x.writeFile(name, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// writeFile creates name in the sink, lets fill write it, and records its
// size and SHA-256 for the manifest.
func (x *exporter) writeFile(name string, fill func(io.Writer) error) error {
	if x.paths[name] {
		return fmt.Errorf("export: two files would be written at %s", name)
	}
	x.paths[name] = true
	f, err := x.sink.Create(name, x.opts.CreatedAt)
	if err != nil {
		return err
	}
	hw := &hashingWriter{w: f, h: sha256.New()}
	if err := fill(hw); err != nil {
		f.Close()
		return fmt.Errorf("export: writing %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	x.files = append(x.files, FileEntry{Path: name, Size: hw.n, SHA256: hex.EncodeToString(hw.h.Sum(nil))})
	return nil
}

// hashingWriter hashes and counts what goes through it.
type hashingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashingWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// finish writes the RSMF files, the load file and the manifest.
func (x *exporter) finish() (*Result, error) {
	if x.opts.has(FormatRSMF) {
		if err := x.writeRSMFFiles(); err != nil {
			return nil, err
		}
	}
	if x.opts.has(FormatDAT) {
		if err := x.writeBytes(DATFile, x.dat.Bytes()); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(x.files, func(a, b FileEntry) int { return strings.Compare(a.Path, b.Path) })
	m := &Manifest{
		Format: ManifestFormat, Metadata: x.opts.Metadata, Formats: x.opts.sortedFormats(),
		Generator: x.opts.Generator, Origin: x.opts.Origin, Checkpoint: string(x.opts.Checkpoint),
		BatesPrefix: x.opts.BatesPrefix, Records: x.records, Files: x.files,
	}
	if m.Records == nil {
		m.Records = []RecordEntry{}
	}
	if m.Formats == nil {
		m.Formats = []Format{}
	}
	body, err := m.encode()
	if err != nil {
		return nil, err
	}
	res := &Result{Records: len(x.records), Checkpoint: x.cp, ManifestSHA256: sha256Hex(body)}
	for _, f := range x.files {
		res.Bytes += f.Size
	}
	res.Files = len(x.files) + 2
	line := manifestSHA256Line(res.ManifestSHA256)
	res.Bytes += int64(len(body) + len(line))
	for _, f := range []struct {
		name string
		b    []byte
	}{{ManifestFile, body}, {ManifestSHA256File, line}} {
		w, err := x.sink.Create(f.name, x.opts.CreatedAt)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.b); err != nil {
			w.Close()
			return nil, fmt.Errorf("export: writing %s: %w", f.name, err)
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
	}
	return res, nil
}
