package export

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// exportFiles exports the fixture in every format and returns its files.
func exportFiles(tb testing.TB) (*fixture, map[string][]byte) {
	tb.Helper()
	f := buildFixture(tb)
	var buf bytes.Buffer
	if _, err := Export(context.Background(), NewZipSink(&buf), f.options(AllFormats...), Items(f.items)); err != nil {
		tb.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		tb.Fatal(err)
	}
	files := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			tb.Fatal(err)
		}
		files[zf.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return f, files
}

func firstWithSuffix(files map[string][]byte, suffix string) []byte {
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if strings.HasSuffix(name, suffix) {
			return files[name]
		}
	}
	return nil
}

// FuzzReadManifest: any input is refused or read; what is read re-encodes
// to a manifest that reads back the same.
func FuzzReadManifest(f *testing.F) {
	_, files := exportFiles(f)
	f.Add(files[ManifestFile])
	f.Add([]byte(`{"format":"vigil.export/v1","exportID":"x","actor":"a","createdAt":"2026-01-01T00:00:00Z","formats":[],"generator":"g","origin":"o","checkpoint":"c","batesPrefix":"V","records":[],"files":[]}`))
	f.Add([]byte(`{"records":[{"id":"a","leaf":"AAAA","proof":["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadManifest(bytes.NewReader(b))
		if err != nil {
			return
		}
		again, err := m.encode()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ReadManifest(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("a manifest that was read does not read back after encoding: %v", err)
		}
		if third, _ := m2.encode(); !bytes.Equal(third, again) {
			t.Fatal("encoding is not stable")
		}
	})
}

// FuzzParseDAT: any input is refused or parsed; what is parsed writes back
// to a load file that parses to the same rows.
func FuzzParseDAT(f *testing.F) {
	_, files := exportFiles(f)
	f.Add(files[DATFile])
	f.Add([]byte("þAþ\x14þBþ\r\nþ1þ\x14þx®yþþzþ\r\n"))
	f.Add([]byte("\xef\xbb\xbfþAþ\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDAT(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		encodeDATRow(&out, d.Header)
		for _, r := range d.Rows {
			encodeDATRow(&out, r)
		}
		d2, err := ParseDAT(&out)
		if err != nil {
			t.Fatalf("a parsed DAT does not parse after writing: %v", err)
		}
		if !slices.Equal(d.Header, d2.Header) || len(d.Rows) != len(d2.Rows) {
			t.Fatal("header or row count changed")
		}
		for i := range d.Rows {
			if !slices.Equal(d.Rows[i], d2.Rows[i]) {
				t.Fatalf("row %d: %q became %q", i, d.Rows[i], d2.Rows[i])
			}
		}
	})
}

// FuzzParseRSMFManifest: any input is refused or parsed into a manifest
// that passes its own validation after a round trip.
func FuzzParseRSMFManifest(f *testing.F) {
	f.Add([]byte(minimalManifest))
	f.Add([]byte(`{"version":"2.0.0","participants":[{"id":"P1"}],"conversations":[{"id":"C1","platform":"x","participants":["P1"],"custodian":"P1"}],"events":[{"id":"a","type":"message","conversation":"C1"},{"type":"join","parent":"a","conversation":"C1"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseRSMFManifest(bytes.NewReader(b))
		if err != nil {
			return
		}
		if err := ValidateRSMFManifest(m, nil); err != nil {
			t.Fatalf("a parsed manifest does not validate: %v", err)
		}
	})
}

// FuzzReadRSMF feeds whole RSMF files: the message, MIME and zip layers.
func FuzzReadRSMF(f *testing.F) {
	_, files := exportFiles(f)
	f.Add(firstWithSuffix(files, ".rsmf"))
	f.Add([]byte("X-RSMF-Version: 2.0.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Disposition: attachment; filename=rsmf.zip\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\r\n--b--\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rf, err := ReadRSMF(bytes.NewReader(b))
		if err != nil {
			return
		}
		if rf.Manifest == nil || !rf.Files[RSMFManifestFile] {
			t.Fatal("an RSMF was read without its manifest")
		}
	})
}

// FuzzVerifyManifest runs the whole verifier over a real export whose
// manifest is replaced by the input: whatever the manifest says (proofs of
// any length, any leaf index, paths), Verify reports and never fails.
func FuzzVerifyManifest(f *testing.F) {
	fx, files := exportFiles(f)
	f.Add(files[ManifestFile])
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys := fstest.MapFS{}
		for name, content := range files {
			fsys[name] = &fstest.MapFile{Data: content}
		}
		fsys[ManifestFile] = &fstest.MapFile{Data: b}
		rep, err := Verify(context.Background(), fsys, testOrigin, fx.verifiers())
		if err != nil || rep == nil {
			t.Fatalf("Verify: %v", err)
		}
		if bytes.Equal(b, files[ManifestFile]) && !rep.OK() {
			t.Fatalf("the real manifest does not verify: %v", rep.Problems)
		}
	})
}
