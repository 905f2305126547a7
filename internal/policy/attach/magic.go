package attach

import (
	"bytes"
	"encoding/binary"
	"io"
)

// Signatures from the research table (§7). Only the leading bytes are
// compared; deeper checks (PE header, fat Mach-O vs Java) follow in sniff.
var (
	sigELF    = []byte("\x7fELF")
	sigOLE2   = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	sigZip    = []byte("PK\x03\x04")
	sigZipEnd = []byte("PK\x05\x06") // empty archive: end record only
	sigRar4   = []byte("Rar!\x1a\x07\x00")
	sigRar5   = []byte("Rar!\x1a\x07\x01\x00")
	sig7z     = []byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}
	sigGzip   = []byte{0x1F, 0x8B, 0x08} // RFC 1952 defines deflate (8) only
	sigRTF    = []byte(`{\rt`)           // Word stops checking after "{\rt"
	sigLNK    = []byte{0x4C, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00}
	sigCHM    = []byte("ITSF")
	sigPNG    = []byte("\x89PNG\r\n\x1a\n")
	sigJPEG   = []byte{0xFF, 0xD8, 0xFF}
	sigGIF87  = []byte("GIF87a")
	sigGIF89  = []byte("GIF89a")
	sigPDF    = []byte("%PDF-")
	sigISO    = []byte("CD001")
	sigTar    = []byte("ustar")
)

// machoMagics are the thin Mach-O magics in both byte orders.
var machoMagics = [][]byte{
	{0xFE, 0xED, 0xFA, 0xCE}, {0xFE, 0xED, 0xFA, 0xCF},
	{0xCE, 0xFA, 0xED, 0xFE}, {0xCF, 0xFA, 0xED, 0xFE},
}

// sniff names the content type from its first bytes. head is the start of
// the content; ra and size, when ra is not nil, reach the rest so that a PE
// header beyond head can be checked. whole says whether size is the real
// size of the content or only what we hold of it.
func sniff(head []byte, ra io.ReaderAt, size int64, whole bool) string {
	b := head
	switch {
	case len(b) == 0:
		return TypeUnknown
	case bytes.HasPrefix(b, []byte("MZ")) && isPE(b, ra, size, whole):
		return TypePE
	case bytes.HasPrefix(b, sigELF):
		return TypeELF
	case hasAnyPrefix(b, machoMagics):
		return TypeMachO
	case bytes.HasPrefix(b, []byte{0xCA, 0xFE, 0xBA, 0xBE}) || bytes.HasPrefix(b, []byte{0xCA, 0xFE, 0xBA, 0xBF}):
		return fatOrClass(b)
	case bytes.HasPrefix(b, sigOLE2):
		return TypeOLE2
	case bytes.HasPrefix(b, sigZip) || bytes.HasPrefix(b, sigZipEnd):
		return TypeZip
	case bytes.HasPrefix(b, sigRar4) || bytes.HasPrefix(b, sigRar5):
		return TypeRar
	case bytes.HasPrefix(b, sig7z):
		return Type7z
	case bytes.HasPrefix(b, sigGzip):
		return TypeGzip
	case bytes.HasPrefix(b, sigRTF):
		return TypeRTF
	case bytes.HasPrefix(b, sigLNK):
		return TypeLNK
	case bytes.HasPrefix(b, sigCHM) && len(b) >= 8 && binary.LittleEndian.Uint32(b[4:]) == 3:
		return TypeCHM
	case bytes.HasPrefix(b, sigPNG):
		return TypePNG
	case bytes.HasPrefix(b, sigJPEG):
		return TypeJPEG
	case bytes.HasPrefix(b, sigGIF87) || bytes.HasPrefix(b, sigGIF89):
		return TypeGIF
	case len(b) >= 0x8006 && bytes.Equal(b[0x8001:0x8006], sigISO):
		return TypeISO
	case len(b) >= 262 && bytes.Equal(b[257:262], sigTar):
		return TypeTar
	case isPDF(b):
		return TypePDF
	case bytes.HasPrefix(b, []byte("#!")) && isText(b):
		return TypeScript
	case isText(b):
		return TypeText
	}
	return TypeUnknown
}

func hasAnyPrefix(b []byte, sigs [][]byte) bool {
	for _, s := range sigs {
		if bytes.HasPrefix(b, s) {
			return true
		}
	}
	return false
}

// isPE checks for a new-executable header at e_lfanew. PE is what matters
// today; NE/LE/LX are accepted too since they are executables all the same.
// When e_lfanew lies beyond the bytes we hold of a member, we cannot check
// and say yes unless the bytes read as text: a false "executable" is cheaper
// than a missed one.
func isPE(b []byte, ra io.ReaderAt, size int64, whole bool) bool {
	if len(b) < 0x40 {
		return false
	}
	lfanew := int64(binary.LittleEndian.Uint32(b[0x3C:]))
	var sig []byte
	switch {
	case lfanew+4 <= int64(len(b)):
		sig = b[lfanew : lfanew+4]
	case ra != nil && lfanew+4 <= size:
		sig = make([]byte, 4)
		if _, err := ra.ReadAt(sig, lfanew); err != nil {
			return !whole && !isText(b)
		}
	case !whole:
		return !isText(b)
	default:
		return false
	}
	if bytes.Equal(sig, []byte("PE\x00\x00")) {
		return true
	}
	switch string(sig[:2]) {
	case "NE", "LE", "LX":
		return true
	}
	return false
}

// fatOrClass tells a fat Mach-O from a Java class file: both start CAFEBABE.
// A fat header continues with the architecture count (a handful); a class file
// with minor and major version, and major is at least 45 (JDK 1.0.2).
func fatOrClass(b []byte) string {
	if len(b) < 8 {
		return TypeUnknown
	}
	n := binary.BigEndian.Uint32(b[4:])
	switch {
	case n == 0:
		return TypeUnknown
	case n < 45:
		return TypeMachO
	}
	return TypeClass
}

// isPDF accepts "%PDF-" followed by a version digit anywhere in the first
// 1024 bytes, as Acrobat does; junk before the header is a known evasion.
func isPDF(b []byte) bool {
	if len(b) > 1024 {
		b = b[:1024]
	}
	i := bytes.Index(b, sigPDF)
	return i >= 0 && i+len(sigPDF) < len(b) && b[i+len(sigPDF)] >= '1' && b[i+len(sigPDF)] <= '9'
}

// isText accepts UTF-8 and legacy 8-bit encodings (GBK, Big5: chat users send
// GBK-encoded .bat and .txt files) and UTF-16 with a byte-order mark. It
// rejects NUL and allows a sprinkling of other control characters.
func isText(b []byte) bool {
	switch {
	case len(b) == 0:
		return false
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		b = b[3:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return isUTF16Text(b[2:], binary.LittleEndian)
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return isUTF16Text(b[2:], binary.BigEndian)
	}
	bad := 0
	for _, c := range b {
		switch {
		case c == 0:
			return false
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1B:
			bad++
		}
	}
	return bad <= len(b)/100
}

func isUTF16Text(b []byte, order binary.ByteOrder) bool {
	bad := 0
	n := len(b) / 2
	for i := 0; i+1 < len(b); i += 2 {
		u := order.Uint16(b[i:])
		if u < 0x20 && u != '\t' && u != '\n' && u != '\r' && u != '\f' {
			bad++
		}
	}
	return bad <= n/100
}

// typeExecutable lists content types that run code when opened. ISO images
// are included because Windows mounts them with a double click and their
// contents escape mark-of-the-web.
var typeExecutable = map[string]bool{
	TypePE: true, TypeELF: true, TypeMachO: true, TypeClass: true,
	TypeLNK: true, TypeCHM: true, TypeMsi: true, TypeJar: true,
	TypeAPK: true, TypeScript: true, TypeISO: true,
}

// zipKinds are the types a zip container may be refined to.
var zipKinds = map[string]bool{
	TypeZip: true, TypeDocx: true, TypeDocm: true, TypeXlsx: true,
	TypeXlsm: true, TypePptx: true, TypePptm: true, TypeJar: true, TypeAPK: true,
}
