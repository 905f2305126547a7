package attach

import (
	"testing"
)

func TestExts(t *testing.T) {
	for _, tc := range []struct{ name, last, prev string }{
		{"report.pdf", ".pdf", ""},
		{"Invoice.PDF.EXE", ".exe", ".pdf"},
		{"invoice.pdf      .exe", ".exe", ".pdf"},
		{"invoice.pdf.exe. . ", ".exe", ".pdf"},
		{"dir/sub\\photo.jpg.scr", ".scr", ".jpg"},
		{"photo\u202egpj.exe", ".exe", ""},
		{"a.ex\u200be", ".exe", ""},
		{"README", "", ""},
		{".bashrc", "", ""},
		{"archive.tar.gz", ".gz", ".tar"},
	} {
		last, prev := exts(tc.name)
		if last != tc.last || prev != tc.prev {
			t.Errorf("exts(%q) = %q, %q; want %q, %q", tc.name, last, prev, tc.last, tc.prev)
		}
	}
}

func TestHasBidi(t *testing.T) {
	for name, want := range map[string]bool{
		"invoice\u202Efdp.exe": true, // RLO
		"a\u202Db.txt":         true, // LRO
		"a\u2067b.txt":         true, // RLI
		"a\u200Fb.txt":         true, // RLM
		"a\u061Cb.txt":         true, // ALM
		"季度报告.docx":            false,
		"تقرير.pdf":            false, // Arabic letters are not controls
		"zero\u200bwidth.txt":  false,
	} {
		if got := hasBidi(name); got != want {
			t.Errorf("hasBidi(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestDoubleExtension(t *testing.T) {
	for name, want := range map[string]bool{
		"invoice.pdf.exe":         true,
		"photo.JPG.scr":           true,
		"report.docx.js":          true,
		"contract.pdf       .lnk": true,
		"scan.pdf.iso":            true,
		"setup-1.2.exe":           false,
		"archive.tar.gz":          false,
		"report.final.pdf":        false,
		"invoice.exe":             false,
		"app.v2.apk":              false,
		"notes.txt.bak":           false,
	} {
		if got := isDoubleExtension(name); got != want {
			t.Errorf("isDoubleExtension(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestNameMismatch(t *testing.T) {
	for _, tc := range []struct {
		typ, name string
		want      bool
	}{
		{TypePE, "invoice.pdf", true},
		{TypePE, "setup.exe", false},
		{TypePE, "program", false},
		{TypePE, "data.bin", false}, // .bin says nothing
		{TypeZip, "photos.zip", false},
		{TypeDocx, "report.docx", false},
		{TypeDocm, "report.docx", true}, // macros disguised as a macro-free type
		{TypeDocx, "report.docm", false},
		{TypeXlsx, "sheet.xls", true},
		{TypeText, "export.xls", false}, // web exports: HTML named .xls
		{TypeText, "a.pdf", true},
		{TypeRTF, "letter.doc", true},
		{TypeOLE2, "secret.docx", false}, // encrypted OOXML is a compound file
		{TypeDoc, "letter.doc", false},
		{TypeDoc, "文件.wps", false},
		{TypeJPEG, "photo.png", false}, // image types are interchangeable
		{TypePNG, "photo.exe", true},
		{TypeUnknown, "x.pdf", false},
		{"", "x.pdf", false},
		{TypeJar, "game.zip", true},
		{TypeISO, "disk.img", false},
	} {
		if got := nameMismatch(tc.typ, tc.name); got != tc.want {
			t.Errorf("nameMismatch(%q, %q) = %v, want %v", tc.typ, tc.name, got, tc.want)
		}
	}
}

func TestInspectMeta(t *testing.T) {
	for _, tc := range []struct {
		m     Meta
		flags []string
	}{
		{Meta{Name: "report.pdf", MIME: "application/pdf", Size: 10}, nil},
		{Meta{Name: "setup.exe"}, []string{"executable"}},
		{Meta{Name: "run.JS"}, []string{"executable"}},
		{Meta{Name: "disk.iso"}, []string{"executable"}},
		{Meta{Name: "file.bin", MIME: "application/x-msdownload; charset=binary"}, []string{"executable"}},
		{Meta{Name: "invoice.pdf.exe"}, []string{"executable", "double-extension"}},
		{Meta{Name: "invoice\u202Efdp.exe"}, []string{"executable", "rtlo"}},
		{Meta{Name: "x.txt", Size: -1}, []string{"malformed"}},
	} {
		r := InspectMeta(tc.m)
		got := r.Flags()
		if len(got) != len(tc.flags) {
			t.Errorf("InspectMeta(%+v).Flags() = %v, want %v", tc.m, got, tc.flags)
			continue
		}
		for i := range got {
			if got[i] != tc.flags[i] {
				t.Errorf("InspectMeta(%+v).Flags() = %v, want %v", tc.m, got, tc.flags)
			}
		}
		if r.Type != "" || r.Name != tc.m.Name {
			t.Errorf("InspectMeta(%+v): type %q name %q", tc.m, r.Type, r.Name)
		}
	}
}
