package export

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

func TestExportAllFormatsVerifies(t *testing.T) {
	f := buildFixture(t)
	dir, res := f.exportDir(t, f.options(AllFormats...))
	rep, err := VerifyDir(context.Background(), dir, testOrigin, f.verifiers())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		var b strings.Builder
		rep.WriteText(&b)
		t.Fatalf("a fresh export does not verify:\n%s", b.String())
	}
	n := len(f.items)
	c := rep.Counts
	if res.Records != n || c.Records != n || c.DATRows != n || c.EML != n {
		t.Errorf("result %+v, counts %+v: want %d records, DAT rows and EML", res, c, n)
	}
	// WeCom day 1, WhatsApp days 1 and 2, Slack day 1.
	if c.RSMF != 4 {
		t.Errorf("%d RSMF files, want 4", c.RSMF)
	}
	if c.Attachments != 2 {
		t.Errorf("%d attachments exported, want the 2 with content", c.Attachments)
	}
	if rep.ManifestSHA256 != res.ManifestSHA256 || rep.CheckpointSize != res.Checkpoint.Size {
		t.Errorf("report manifest %s size %d, result %s size %d", rep.ManifestSHA256, rep.CheckpointSize, res.ManifestSHA256, res.Checkpoint.Size)
	}
	var files int
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			files++
			total += info.Size()
		}
		return err
	})
	if files != res.Files || total != res.Bytes {
		t.Errorf("%d files, %d bytes on disk; the result says %d files, %d bytes", files, total, res.Files, res.Bytes)
	}
	// The natives are the stored bytes, verbatim.
	for _, it := range f.items {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(nativePath(it.Record.Record.ID))))
		if err != nil || !bytes.Equal(got, it.RecordBytes) {
			t.Errorf("native of %s differs from the stored bytes (%v)", it.Record.Record.ID, err)
		}
	}
}

// TestExportZipIsTheSameExport exports to a zip and to a folder: the zip
// verifies in place, and both hold byte-identical files, which is what
// makes an export reproducible.
func TestExportZipIsTheSameExport(t *testing.T) {
	f := buildFixture(t)
	dir, dirRes := f.exportDir(t, f.options(AllFormats...))
	var buf bytes.Buffer
	res, err := Export(context.Background(), NewZipSink(&buf), f.options(AllFormats...), Items(f.items))
	if err != nil {
		t.Fatal(err)
	}
	if res.ManifestSHA256 != dirRes.ManifestSHA256 {
		t.Fatalf("zip manifest %s, folder manifest %s: the output is not deterministic", res.ManifestSHA256, dirRes.ManifestSHA256)
	}
	rep, err := VerifyZip(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), testOrigin, f.verifiers())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("the zip does not verify: %v", rep.Problems)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(zf.Name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs between the zip and the folder (%v)", zf.Name, err)
		}
		if !zf.Modified.Equal(f.options().CreatedAt) {
			t.Errorf("%s is dated %s, want the export time", zf.Name, zf.Modified)
		}
	}
}

func TestExportNativesOnly(t *testing.T) {
	f := buildFixture(t)
	dir, _ := f.exportDir(t, f.options())
	rep, err := VerifyDir(context.Background(), dir, testOrigin, f.verifiers())
	if err != nil || !rep.OK() {
		t.Fatalf("natives-only export: %v %v", err, rep.Problems)
	}
	for _, sub := range []string{emlDir, rsmfDir, textDir, DATFile} {
		if _, err := os.Stat(filepath.Join(dir, sub)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists in a natives-only export", sub)
		}
	}
}

func TestExportEmpty(t *testing.T) {
	f := buildFixture(t)
	var buf bytes.Buffer
	res, err := Export(context.Background(), NewZipSink(&buf), f.options(AllFormats...), Items(nil))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyZip(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), testOrigin, f.verifiers())
	if err != nil || !rep.OK() || res.Records != 0 {
		t.Fatalf("empty export: %v %v %+v", err, rep.Problems, res)
	}
}

// badProofs returns a proof with one hash changed.
type badProofs struct{ treeProofs }

func (p badProofs) InclusionProof(ctx context.Context, index, size uint64) ([]tlog.Hash, error) {
	proof, err := p.treeProofs.InclusionProof(ctx, index, size)
	if len(proof) > 0 {
		proof[0][0] ^= 1
	}
	return proof, err
}

// TestExportRefusesWhatTheLogDoesNotVouchFor checks that no export is made
// of records whose bytes, leaf, proof or attachments do not check out.
func TestExportRefusesWhatTheLogDoesNotVouchFor(t *testing.T) {
	f := buildFixture(t)
	otherSigner, err := tlog.GenerateSigner(testOrigin, bytes.NewReader(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change func(opts *Options, items []Item) []Item
		want   error
	}{
		{"record byte changed", func(_ *Options, items []Item) []Item {
			items[0].RecordBytes = bytes.Replace(items[0].RecordBytes, []byte("三點"), []byte("四點"), 1)
			return items
		}, ErrRecordMismatch},
		{"findings dropped", func(_ *Options, items []Item) []Item {
			items[0].FindingsBytes = nil
			return items
		}, ErrRecordMismatch},
		{"wrong account", func(_ *Options, items []Item) []Item {
			items[1].Record.Account = "desk/someone-else"
			return items
		}, ErrRecordMismatch},
		{"leaf of another record", func(_ *Options, items []Item) []Item {
			items[1].Leaf = items[2].Leaf
			return items
		}, ErrRecordMismatch},
		{"leaf not canonical", func(_ *Options, items []Item) []Item {
			items[1].Leaf = append([]byte(" "), items[1].Leaf...)
			return items
		}, ErrRecordMismatch},
		{"wrong leaf index", func(_ *Options, items []Item) []Item {
			items[3].LeafIndex++
			return items
		}, ErrRecordMismatch},
		{"leaf beyond the checkpoint", func(_ *Options, items []Item) []Item {
			items[3].LeafIndex = 1 << 40
			return items
		}, ErrRecordMismatch},
		{"bad proof", func(opts *Options, items []Item) []Item {
			opts.Proofs = badProofs{treeProofs{f.tree}}
			return items
		}, ErrRecordMismatch},
		{"record given twice", func(_ *Options, items []Item) []Item {
			return append(items, items[0])
		}, ErrRecordMismatch},
		{"attachment content differs from its record", func(opts *Options, items []Item) []Item {
			bad := memAttachments{}
			for k, v := range f.attachments {
				bad[k] = append(slices.Clone(v), '!')
			}
			opts.Attachments = bad
			return items
		}, ErrRecordMismatch},
		{"checkpoint signed by another key", func(opts *Options, items []Item) []Item {
			opts.Verifiers = []*tlog.Verifier{otherSigner.Verifier()}
			return items
		}, tlog.ErrUnverifiedNote},
		{"checkpoint of another origin", func(opts *Options, items []Item) []Item {
			opts.Origin = "archive.example.com/tenant-b"
			return items
		}, tlog.ErrMalformedCheckpoint},
		{"no export id", func(opts *Options, items []Item) []Item {
			opts.ExportID = ""
			return items
		}, ErrInvalidOptions},
		{"unknown format", func(opts *Options, items []Item) []Item {
			opts.Formats = []Format{"pdf"}
			return items
		}, ErrInvalidOptions},
		{"actor with a line break", func(opts *Options, items []Item) []Item {
			opts.Actor = "legal\r\nBcc: someone"
			return items
		}, ErrInvalidOptions},
		{"bad Bates prefix", func(opts *Options, items []Item) []Item {
			opts.BatesPrefix = "../x"
			return items
		}, ErrInvalidOptions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := f.options(AllFormats...)
			items := make([]Item, len(f.items))
			for i, it := range f.items {
				it.RecordBytes, it.FindingsBytes, it.Leaf = slices.Clone(it.RecordBytes), slices.Clone(it.FindingsBytes), slices.Clone(it.Leaf)
				items[i] = it
			}
			items = c.change(&opts, items)
			var buf bytes.Buffer
			_, err := Export(context.Background(), NewZipSink(&buf), opts, Items(items))
			if !errors.Is(err, c.want) {
				t.Fatalf("Export: %v, want %v", err, c.want)
			}
		})
	}
}

func TestExportStopsOnIteratorErrorAndCancel(t *testing.T) {
	f := buildFixture(t)
	boom := errors.New("database went away")
	failing := func(yield func(Item, error) bool) {
		if yield(f.items[0], nil) {
			yield(Item{}, boom)
		}
	}
	if _, err := Export(context.Background(), NewZipSink(io.Discard), f.options(AllFormats...), failing); !errors.Is(err, boom) {
		t.Errorf("iterator error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Export(ctx, NewZipSink(io.Discard), f.options(AllFormats...), Items(f.items)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
