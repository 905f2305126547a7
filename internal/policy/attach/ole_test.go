package attach

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// msiCLSID is {000C1084-0000-0000-C000-000000000046} as stored on disk.
var msiCLSID = []byte{0x84, 0x10, 0x0C, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46}

func TestOLEDocuments(t *testing.T) {
	for _, tc := range []struct {
		name  string
		file  string
		cfb   []byte
		typ   string
		flags []string
	}{
		{"word without macros", "letter.doc",
			buildCFB(t, nil, stream("WordDocument", wordDocFIB(false)), stream("1Table", []byte{1})),
			TypeDoc, nil},
		{"word with VBA", "letter.doc",
			buildCFB(t, nil, stream("WordDocument", wordDocFIB(false)), storage("Macros", storage("VBA", stream("dir", []byte{1}), stream("_VBA_PROJECT", []byte{1})))),
			TypeDoc, []string{"macros"}},
		{"VBA names in another case", "letter.doc",
			buildCFB(t, nil, stream("WordDocument", wordDocFIB(false)), storage("MACROS", storage("vba", stream("DIR", []byte{1})))),
			TypeDoc, []string{"macros"}},
		{"VBA storage without dir", "letter.doc",
			buildCFB(t, nil, stream("WordDocument", wordDocFIB(false)), storage("Macros", storage("VBA", stream("ThisDocument", []byte{1})))),
			TypeDoc, nil},
		{"encrypted word", "letter.doc",
			buildCFB(t, nil, stream("WordDocument", wordDocFIB(true))),
			TypeDoc, []string{"encrypted"}},
		{"excel with VBA", "book.xls",
			buildCFB(t, nil, stream("Workbook", workbookStream(0, false)), storage("_VBA_PROJECT_CUR", storage("VBA", stream("dir", []byte{1})))),
			TypeXls, []string{"macros"}},
		{"excel 4.0 macro sheet", "book.xls",
			buildCFB(t, nil, stream("Workbook", workbookStream(sheetMacro, false))),
			TypeXls, []string{"macros"}},
		{"plain worksheet", "book.xls",
			buildCFB(t, nil, stream("Workbook", workbookStream(0, false))),
			TypeXls, nil},
		{"encrypted workbook", "book.xls",
			buildCFB(t, nil, stream("Workbook", workbookStream(0, true))),
			TypeXls, []string{"encrypted"}},
		{"encrypted OOXML named docx", "board-pack.docx",
			buildCFB(t, nil, stream("EncryptionInfo", []byte{4, 0, 4, 0}), stream("EncryptedPackage", []byte{9})),
			TypeOLE2, []string{"encrypted"}},
		{"powerpoint", "deck.ppt",
			buildCFB(t, nil, stream("PowerPoint Document", []byte{1}), stream("Current User", []byte{1})),
			TypePpt, nil},
		{"encrypted powerpoint", "deck.ppt",
			buildCFB(t, nil, stream("PowerPoint Document", []byte{1}), stream("EncryptedSummary", []byte{1})),
			TypePpt, []string{"encrypted"}},
		{"msi", "setup.msi",
			buildCFB(t, msiCLSID, stream("\u4840\u3f3f", []byte{1})),
			TypeMsi, []string{"executable"}},
		{"msi named pdf", "manual.pdf",
			buildCFB(t, msiCLSID, stream("\u4840\u3f3f", []byte{1})),
			TypeMsi, []string{"executable", "name-mismatch"}},
		{"outlook message", "mail.msg",
			buildCFB(t, nil, stream("__substg1.0_0037001F", []byte("s\x00"))),
			TypeMsg, nil},
		{"word with embedded object", "letter.doc",
			buildCFB(t, nil, stream("WordDocument", wordDocFIB(false)), storage("ObjectPool", storage("_1234", stream("\x01CompObj", []byte{1})))),
			TypeDoc, []string{"ole-object"}},
		{"word with packaged executable", "letter.doc",
			buildCFB(t, nil, stream("WordDocument", wordDocFIB(false)), storage("ObjectPool", storage("_1234", stream("\x01Ole10Native", oleNative("readme.txt", "readme.txt.js", []byte("WScript.Echo(1)")))))),
			TypeDoc, []string{"executable", "name-mismatch", "double-extension", "ole-object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inspectBytes(t, tc.file, tc.cfb, DefaultLimits())
			if r.Type != tc.typ || !equalFlags(r.Flags(), tc.flags) {
				t.Errorf("%s: type %q flags %v, want %q %v", tc.file, r.Type, r.Flags(), tc.typ, tc.flags)
			}
		})
	}
}

func equalFlags(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestOLEPackageEntry(t *testing.T) {
	r := inspectBytes(t, "x.bin", oleObjectWithPackage(t), DefaultLimits())
	if len(r.Entries) != 1 {
		t.Fatalf("entries: %+v", r.Entries)
	}
	e := r.Entries[0]
	if e.Name != "invoice.pdf.exe" || e.Type != TypePE || !e.Executable || !e.DoubleExtension || !e.NameMismatch {
		t.Errorf("package entry: %+v", e)
	}
}

func TestOLEPackageDepth(t *testing.T) {
	// Packages are containers: their payload is one level down.
	r := inspectBytes(t, "x.bin", oleObjectWithPackage(t), Limits{MaxDepth: 1})
	if !r.Executable || r.Bomb || len(r.Entries) != 1 {
		t.Fatalf("a root package at depth limit 1: %v", r.Flags())
	}
	z := buildZip(t, zipFile{name: "x.bin", data: oleObjectWithPackage(t)})
	r = inspectBytes(t, "x.zip", z, Limits{MaxDepth: 1})
	if r.Executable || !r.Bomb {
		t.Fatalf("package inside a zip at depth 1: %v", r.Flags())
	}
}

func TestOLEMalformed(t *testing.T) {
	good := buildCFB(t, nil, stream("WordDocument", wordDocFIB(false)))
	for name, mutate := range map[string]func(b []byte){
		"bad sector shift": func(b []byte) { binary.LittleEndian.PutUint16(b[30:], 7) },
		"directory sector out of range": func(b []byte) {
			binary.LittleEndian.PutUint32(b[48:], 0x00FFFFFF)
		},
		"directory chain loops": func(b []byte) {
			// FAT entry of the directory sector (1) points at itself.
			binary.LittleEndian.PutUint32(b[512+4:], 1)
		},
		"truncated": nil,
	} {
		t.Run(name, func(t *testing.T) {
			b := bytes.Clone(good)
			if mutate != nil {
				mutate(b)
			} else {
				b = b[:700]
			}
			r := inspectBytes(t, "x.doc", b, DefaultLimits())
			if r.Type != TypeOLE2 || !r.Malformed {
				t.Errorf("%s: type %q flags %v", name, r.Type, r.Flags())
			}
		})
	}
}

func TestScanBIFF(t *testing.T) {
	if m, e := scanBIFF(workbookStream(sheetVBA, false)); !m || e {
		t.Errorf("VB module sheet: macros %v encrypted %v", m, e)
	}
	// Records after the globals EOF belong to sheets and are not read.
	b := append(workbookStream(0, false), biffRecord(biffBoundSheet, []byte{0, 0, 0, 0, 0, sheetMacro})...)
	if m, _ := scanBIFF(b); m {
		t.Error("read past the globals substream")
	}
	if m, e := scanBIFF([]byte{0x85, 0x00, 0xFF, 0xFF, 1}); m || e {
		t.Error("truncated record")
	}
}

func TestParseOle10Native(t *testing.T) {
	b := oleNative("label.pdf", "real.exe", []byte("MZ"))
	label, name, data, ok := parseOle10Native(b)
	if !ok || label != "label.pdf" || name != "real.exe" || string(data) != "MZ" {
		t.Errorf("parse: %q %q %q %v", label, name, data, ok)
	}
	for n := 0; n < len(b); n++ {
		parseOle10Native(b[:n]) // must not panic on any truncation
	}
	if _, _, _, ok := parseOle10Native([]byte{1, 2, 3}); ok {
		t.Error("three bytes parsed")
	}
}

func TestOLEPackageLoopingChain(t *testing.T) {
	// The package stream claims 4 MiB but its sector chain loops on itself:
	// reading it must stop at the ratio limit, not spin.
	b := oleObjectWithPackage(t)
	// Find the Ole10Native directory entry (name starts 0x0001 'O') and
	// its first sector, then make that sector's FAT entry point to itself.
	var entry []byte
	for off := 512; off+128 <= len(b); off += 128 {
		if b[off] == 1 && b[off+1] == 0 && b[off+2] == 'O' {
			entry = b[off : off+128]
			break
		}
	}
	if entry == nil {
		t.Fatal("no Ole10Native entry")
	}
	start := binary.LittleEndian.Uint32(entry[116:])
	binary.LittleEndian.PutUint32(entry[120:], 4<<20)
	binary.LittleEndian.PutUint32(b[512+4*int(start):], start)
	r, spent, err := inspect(Meta{Name: "x.bin"}, bytes.NewReader(b), int64(len(b)), Limits{MaxRatio: 2})
	if err != nil {
		t.Fatal(err)
	}
	if spent.total > ratioGrace+1 {
		t.Errorf("read %d bytes from a %d-byte file", spent.total, len(b))
	}
	if !r.Bomb {
		t.Errorf("looping package stream: %v", r.Flags())
	}
}
