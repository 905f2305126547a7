package attach

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestSniff(t *testing.T) {
	iso := make([]byte, 0x8800)
	copy(iso[0x8001:], "CD001")
	tarHead := tarBytes(t, zipFile{name: "a.txt", data: []byte("hi")})
	peFar := make([]byte, 0x40)
	copy(peFar, "MZ")
	binary.LittleEndian.PutUint32(peFar[0x3C:], 0x10000) // header beyond the bytes held
	ne := minimalPE()
	copy(ne[0x80:], "NE")
	mzText := []byte("MZ is the postcode prefix of the city; see the list below.\n" + string(bytes.Repeat([]byte("row, row\n"), 10)))
	gbk := []byte{0xC4, 0xE3, 0xBA, 0xC3, '\r', '\n', 'e', 'c', 'h', 'o', ' ', 0xCA, 0xC0, 0xBD, 0xE7, '\r', '\n'}
	utf16 := []byte{0xFF, 0xFE, 'W', 0, 'i', 0, 'n', 0, 'd', 0, 'o', 0, 'w', 0, 's', 0, '\r', 0, '\n', 0}
	pdfLate := append(bytes.Repeat([]byte("junk "), 100), minimalPDF()...)
	pdfTooLate := append(bytes.Repeat([]byte("text "), 300), []byte("%PDF-1.4 mentioned in passing")...)

	for _, tc := range []struct {
		name  string
		b     []byte
		whole bool
		want  string
	}{
		{"pe", minimalPE(), true, TypePE},
		{"ne", ne, true, TypePE},
		{"pe header out of reach of a member", peFar, false, TypePE},
		{"pe header past the end of a whole file", peFar, true, TypeUnknown},
		{"text starting MZ", mzText, false, TypeText},
		{"elf", minimalELF(), true, TypeELF},
		{"macho 64 le", []byte{0xCF, 0xFA, 0xED, 0xFE, 7, 0, 0, 1}, true, TypeMachO},
		{"macho 32 be", []byte{0xFE, 0xED, 0xFA, 0xCE, 0, 0, 0, 7}, true, TypeMachO},
		{"fat macho", []byte{0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 2, 1, 0, 0, 7}, true, TypeMachO},
		{"java class", []byte{0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 0x34, 0, 0x1F}, true, TypeClass},
		{"ole2", sigOLE2, true, TypeOLE2},
		{"zip", []byte("PK\x03\x04\x14\x00"), true, TypeZip},
		{"empty zip", []byte("PK\x05\x06" + string(make([]byte, 18))), true, TypeZip},
		{"rar4", []byte("Rar!\x1a\x07\x00\xcf\x90"), true, TypeRar},
		{"rar5", []byte("Rar!\x1a\x07\x01\x00\x33"), true, TypeRar},
		{"7z", append(append([]byte(nil), sig7z...), 0, 4), true, Type7z},
		{"gzip", []byte{0x1F, 0x8B, 0x08, 0}, true, TypeGzip},
		{"gzip magic with another method", []byte{0x1F, 0x8B, 0x07, 0}, true, TypeUnknown},
		{"rtf", []byte(`{\rtf1\ansi hello}`), true, TypeRTF},
		{"rtf as Word reads it", []byte(`{\rtxyz obfuscated`), true, TypeRTF},
		{"lnk", append(append([]byte(nil), sigLNK...), 1, 0x14, 2), true, TypeLNK},
		{"chm", []byte("ITSF\x03\x00\x00\x00\x60\x00"), true, TypeCHM},
		{"png", minimalPNG(), true, TypePNG},
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, true, TypeJPEG},
		{"gif87", []byte("GIF87a\x01\x00"), true, TypeGIF},
		{"gif89", []byte("GIF89a\x01\x00"), true, TypeGIF},
		{"iso", iso, true, TypeISO},
		{"tar", tarHead, true, TypeTar},
		{"pdf", minimalPDF(), true, TypePDF},
		{"pdf after junk", pdfLate, true, TypePDF},
		{"pdf marker beyond 1024 bytes of text", pdfTooLate, true, TypeText},
		{"shebang", []byte("#!/bin/sh\necho hi\n"), true, TypeScript},
		{"utf8 text", []byte("季度报告 quarterly report\n"), true, TypeText},
		{"gbk text", gbk, true, TypeText},
		{"utf16 text", utf16, true, TypeText},
		{"binary", []byte{0, 1, 2, 3, 0xFF, 0, 0x10}, true, TypeUnknown},
		{"empty", nil, true, TypeUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sniff(tc.b, bytes.NewReader(tc.b), int64(len(tc.b)), tc.whole); got != tc.want {
				t.Errorf("sniff = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSniffPEHeaderBeyondHead(t *testing.T) {
	// e_lfanew past headLen: the root file is read further through the
	// ReaderAt rather than guessed.
	b := make([]byte, headLen+0x100)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3C:], headLen+0x10)
	copy(b[headLen+0x10:], "PE\x00\x00")
	if got := sniff(b[:headLen], bytes.NewReader(b), int64(len(b)), true); got != TypePE {
		t.Errorf("sniff = %q, want pe", got)
	}
	copy(b[headLen+0x10:], "XX\x00\x00")
	if got := sniff(b[:headLen], bytes.NewReader(b), int64(len(b)), true); got == TypePE {
		t.Error("no PE signature at e_lfanew, still pe")
	}
}

func TestIsText(t *testing.T) {
	noisy := append(bytes.Repeat([]byte("a"), 100), 0x01, 0x02)
	if isText(noisy) {
		t.Error("2% control characters accepted as text")
	}
	if !isText(append(bytes.Repeat([]byte("a"), 300), 0x01)) {
		t.Error("a stray control character rejected")
	}
	if isText([]byte{0xFF, 0xFE, 0x01, 0x00, 0x02, 0x00}) {
		t.Error("UTF-16 control characters accepted")
	}
}
