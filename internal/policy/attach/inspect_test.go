package attach

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNearMissesDoNotFlag(t *testing.T) {
	for name, b := range map[string][]byte{
		"report.docx":    buildDocx(t),
		"texts.zip":      buildZip(t, zipFile{name: "a.txt", data: []byte("hello")}, zipFile{name: "b/c.md", data: []byte("# title")}),
		"statement.pdf":  minimalPDF(),
		"photo.png":      minimalPNG(),
		"notes.txt":      []byte("meeting at 3pm; bring the invoice.pdf\n"),
		"导出报表.xls":       []byte("<html><table><tr><td>1</td></tr></table></html>"),
		"letter.doc":     buildCFB(t, nil, stream("WordDocument", wordDocFIB(false))),
		"logs.tar.gz":    gzipBytes(t, "", tarBytes(t, zipFile{name: "app.log", data: []byte("ok\n")})),
		"archive.rar":    rar5Archive(false, "photos/1.jpg", "photos/2.jpg"),
		"backup.7z":      sevenZipFile(append([]byte{szEncodedHeader}, szStreams(szLZMA)...)),
		"setup-1.2.0.gz": gzipBytes(t, "", []byte("version notes")),
	} {
		r := inspectBytes(t, name, b, DefaultLimits())
		if f := r.Flags(); len(f) != 0 {
			t.Errorf("%s (%s): flags %v", name, r.Type, f)
		}
	}
}

func TestInspectFindings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		b     []byte
		typ   string
		flags []string
	}{
		{"invoice.pdf", minimalPE(), TypePE, []string{"executable", "name-mismatch"}},
		{"invoice.pdf.exe", minimalPE(), TypePE, []string{"executable", "double-extension"}},
		{"tool", minimalELF(), TypeELF, []string{"executable"}},
		{"run.js", []byte("WScript.Echo('hi')"), TypeScript, []string{"executable"}},
		{"run.bat", []byte{0xC4, 0xE3, 0xBA, 0xC3, '\r', '\n', 'd', 'e', 'l', ' ', '*'}, TypeScript, []string{"executable"}},
		{"deploy.sh", []byte("#!/bin/sh\nrm -rf /tmp/x\n"), TypeScript, []string{"executable"}},
		{"payload.vbs", []byte{0, 1, 2, 3}, TypeUnknown, []string{"executable"}},
		{"photo\u202Egnp.exe", minimalPE(), TypePE, []string{"executable", "rtlo"}},
		{"letter.doc", []byte(`{\rtf1 hello}`), TypeRTF, []string{"name-mismatch"}},
		{"notes.txt", minimalPDF(), TypePDF, []string{"name-mismatch"}},
	} {
		r := inspectBytes(t, tc.name, tc.b, DefaultLimits())
		if r.Type != tc.typ || !equalFlags(r.Flags(), tc.flags) {
			t.Errorf("%s: type %q flags %v, want %q %v", tc.name, r.Type, r.Flags(), tc.typ, tc.flags)
		}
	}
}

func TestInspectArguments(t *testing.T) {
	if _, err := Inspect(Meta{Name: "a"}, nil, 0, DefaultLimits()); err == nil {
		t.Error("nil reader accepted")
	}
	if r, err := Inspect(Meta{Name: "a.exe"}, bytes.NewReader(nil), -1, DefaultLimits()); err == nil || !r.Executable {
		t.Errorf("negative size: %v %v", r.Flags(), err)
	}
	r, err := Inspect(Meta{Name: "empty.txt"}, bytes.NewReader(nil), 0, Limits{})
	if err != nil || r.Type != TypeUnknown || len(r.Flags()) != 0 {
		t.Errorf("empty content: %s %v %v", r.Type, r.Flags(), err)
	}
}

func TestInspectDeclaredSize(t *testing.T) {
	b := minimalPDF()
	r, err := Inspect(Meta{Name: "a.pdf", Size: int64(len(b)) + 10}, bytes.NewReader(b), int64(len(b)), DefaultLimits())
	if err != nil || !r.Malformed {
		t.Errorf("declared size differs: %v %v", r.Flags(), err)
	}
	// The caller's size exceeds what the reader holds: truncated storage.
	r, err = Inspect(Meta{Name: "a.zip"}, bytes.NewReader(b), int64(len(b))+100, DefaultLimits())
	if err != nil || !r.Malformed {
		t.Errorf("short reader: %v %v", r.Flags(), err)
	}
}

// flakyReaderAt fails every read after the first n bytes.
type flakyReaderAt struct {
	r    io.ReaderAt
	left int
	err  error
}

func (f *flakyReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if f.left < len(p) {
		return 0, f.err
	}
	f.left -= len(p)
	return f.r.ReadAt(p, off)
}

func TestInspectStorageError(t *testing.T) {
	boom := errors.New("object store: connection reset")
	d := buildDocx(t)
	r, err := Inspect(Meta{Name: "report.docx"}, &flakyReaderAt{r: bytes.NewReader(d), left: len(d) + 50, err: boom}, int64(len(d)), DefaultLimits())
	if !errors.Is(err, boom) {
		t.Fatalf("storage error not returned: %v", err)
	}
	if r.Malformed {
		t.Errorf("a storage failure is not the file's fault: %v", r.Flags())
	}
}

// fixtures returns every fixture, named, for the fuzz seeds and the
// read-budget test.
func fixtures(t testing.TB) map[string][]byte {
	g := gzipBytes(t, "x.tar", tarBytes(t, zipFile{name: "a.exe", data: minimalPE()}))
	return map[string][]byte{
		"plain.docx":   buildDocx(t),
		"macro.docm":   buildDocx(t, zipFile{name: "word/vbaProject.bin", data: vbaProject(t)}),
		"remote.docx":  buildDocx(t, zipFile{name: "word/_rels/settings.xml.rels", data: []byte(settingsRels("http://x/t.dotm"))}),
		"package.docx": buildDocx(t, zipFile{name: "word/embeddings/oleObject1.bin", data: oleObjectWithPackage(t)}),
		"enc.zip":      buildZip(t, zipFile{name: "a.txt", data: []byte("x"), flags: 1}),
		"nested.zip":   nestZips(t, 4),
		"ratio.zip":    zipOfZeros(t, "z", 4<<20),
		"quoted.zip":   quotedOverlapZip(),
		"full.zip":     fullOverlapZip(3),
		"a.doc":        buildCFB(t, nil, stream("WordDocument", wordDocFIB(true)), storage("Macros", storage("VBA", stream("dir", []byte{1})))),
		"a.xls":        buildCFB(t, nil, stream("Workbook", workbookStream(sheetMacro, false))),
		"a.msi":        buildCFB(t, msiCLSID, stream("x", []byte{1})),
		"a.exe":        minimalPE(),
		"a.elf":        minimalELF(),
		"a.pdf":        minimalPDF(),
		"a.png":        minimalPNG(),
		"a.tgz":        g,
		"a5.rar":       rar5Archive(true, "invoice.pdf.exe"),
		"a4.rar":       rar4Archive(0, rar4FilePass, "a.js"),
		"a.7z":         sevenZipFile(append([]byte{szEncodedHeader}, szStreams(szLZMA, szAES)...)),
	}
}

func nestZips(t testing.TB, levels int) []byte {
	b := buildZip(t, zipFile{name: "tool.exe", data: minimalPE()})
	for i := 1; i < levels; i++ {
		b = buildZip(t, zipFile{name: "level.zip", data: b})
	}
	return b
}

// fuzzLimits are tight so the fuzzer reaches every limit quickly.
var fuzzLimits = Limits{MaxDepth: 2, MaxEntries: 16, MaxTotalBytes: 4 << 20, MaxRatio: 100, MaxInspectBytes: 256 << 10}

// checkInspect runs Inspect and checks the invariants that must hold for
// any input: no error from an in-memory reader, no read past the budget, no
// limit overrun, and a Flags list that matches the fields.
func checkInspect(t *testing.T, name string, b []byte, lim Limits) {
	c := &countingReaderAt{r: bytes.NewReader(b)}
	r, spent, err := inspect(Meta{Name: name, Size: int64(len(b))}, c, int64(len(b)), lim)
	if err != nil {
		t.Fatalf("Inspect error on in-memory input: %v", err)
	}
	l := lim.normalized()
	if c.n > l.MaxInspectBytes {
		t.Fatalf("read %d bytes of the attachment, limit %d", c.n, l.MaxInspectBytes)
	}
	if spent.total > l.MaxTotalBytes {
		t.Fatalf("inflated %d bytes, limit %d", spent.total, l.MaxTotalBytes)
	}
	if spent.entries > l.MaxEntries {
		t.Fatalf("looked at %d entries, limit %d", spent.entries, l.MaxEntries)
	}
	if r.Type == "" {
		t.Fatal("content inspected but no type")
	}
	var walk func(r Report, depth int)
	walk = func(r Report, depth int) {
		if depth > l.MaxDepth+1 {
			t.Fatalf("entries nested %d deep, limit %d", depth, l.MaxDepth)
		}
		for _, f := range r.Flags() {
			if f != strings.ToLower(f) || f == "" {
				t.Fatalf("flag %q", f)
			}
		}
		for _, e := range r.Entries {
			walk(e, depth+1)
		}
	}
	walk(r, 0)
}

func TestFixturesWithinLimits(t *testing.T) {
	for name, b := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			checkInspect(t, name, b, DefaultLimits())
			checkInspect(t, name, b, fuzzLimits)
			// Every prefix and a sprinkling of corruptions must stay safe.
			rng := rand.New(rand.NewPCG(1, uint64(len(b))))
			for i := 0; i < 64; i++ {
				c := bytes.Clone(b)
				for j := 0; j < 1+rng.IntN(4); j++ {
					c[rng.IntN(len(c))] = byte(rng.Uint32())
				}
				checkInspect(t, name, c, fuzzLimits)
				checkInspect(t, name, b[:rng.IntN(len(b))], fuzzLimits)
			}
		})
	}
}

func FuzzInspect(f *testing.F) {
	for name, b := range fixtures(f) {
		f.Add(name, b)
	}
	f.Add("x.txt", []byte("hello"))
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		checkInspect(t, name, b, fuzzLimits)
	})
}

func FuzzInspectMeta(f *testing.F) {
	for _, s := range []string{"invoice.pdf.exe", "photo\u202Egnp.exe", "a.docx", "archive.tar.gz", "x.pdf      .lnk", "", ".", "a.", "文件.wps"} {
		f.Add(s, "application/pdf", int64(10))
	}
	f.Add("a.bin", "application/x-msdownload; q=1", int64(-1))
	f.Fuzz(func(t *testing.T, name, mime string, size int64) {
		r := InspectMeta(Meta{Name: name, MIME: mime, Size: size})
		if r.Name != name || r.Type != "" || r.Partial || r.Bomb || r.Macros || r.Encrypted || len(r.Entries) != 0 {
			t.Fatalf("InspectMeta reported content findings: %+v", r)
		}
		if r.RTLO != strings.ContainsFunc(name, isBidi) {
			t.Fatalf("RTLO = %v for %q", r.RTLO, name)
		}
		if r.Malformed != (size < 0) {
			t.Fatalf("Malformed = %v for size %d", r.Malformed, size)
		}
		if last, prev := exts(name); last != strings.ToLower(last) || prev != strings.ToLower(prev) || !utf8.ValidString(last) && utf8.ValidString(name) {
			t.Fatalf("exts(%q) = %q, %q", name, last, prev)
		}
		if r.DoubleExtension && !r.Executable {
			t.Fatalf("a double extension ends in an executable one: %q", name)
		}
	})
}

// benchDocx is a ~1 MiB Word document: text that compresses like prose and
// an incompressible image.
func benchDocx(b *testing.B) []byte {
	rng := rand.New(rand.NewPCG(7, 7))
	words := strings.Fields("the quarterly revenue forecast for 华东 region exceeded 预期 while 成本 and margin guidance remained stable across desks 交易 compliance review")
	var body strings.Builder
	for body.Len() < 2<<20 {
		body.WriteString("<w:p><w:r><w:t>")
		for i := 0; i < 40; i++ {
			body.WriteString(words[rng.IntN(len(words))])
			body.WriteByte(' ')
		}
		body.WriteString("</w:t></w:r></w:p>")
	}
	img := make([]byte, 600<<10)
	for i := range img {
		img[i] = byte(rng.Uint32())
	}
	copy(img, minimalPNG())
	return buildZip(b, docxParts(body.String(), zipFile{name: "word/media/image1.png", data: img, store: true})...)
}

// benchBomb is bomb-ish: a quoted-overlap archive, a 1000:1 member and a
// deep nest, each within one zip.
func benchBomb(b *testing.B) []byte {
	return buildZip(b,
		zipFile{name: "zeros.bin", data: zeros(64 << 20)},
		zipFile{name: "overlap.zip", data: quotedOverlapZip(), store: true},
		zipFile{name: "deep.zip", data: nestZips(b, 6)},
	)
}

// benchLyingGzip inflates to the ratio limit: gzip has no declared size to
// check first, so this is the cost of actually hitting the limit.
func benchLyingGzip(b *testing.B) []byte {
	return gzipBytes(b, "", zeros(64<<20))
}

func BenchmarkInspect(b *testing.B) {
	for _, bc := range []struct {
		name  string
		build func(*testing.B) []byte
	}{
		{"docx-1MiB", benchDocx},
		{"zip-bomb", benchBomb},
		{"gzip-bomb", benchLyingGzip},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data := bc.build(b)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := Inspect(Meta{Name: bc.name}, bytes.NewReader(data), int64(len(data)), DefaultLimits())
				if err != nil {
					b.Fatal(err)
				}
				if strings.HasSuffix(bc.name, "bomb") != r.Bomb {
					b.Fatalf("%s: %v", bc.name, r.Flags())
				}
			}
		})
	}
}
