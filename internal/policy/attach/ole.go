package attach

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/richardlehane/mscfb"
)

// Root CLSIDs of Windows Installer files (package, patch, transform).
var msiCLSIDs = map[string]bool{
	"{000C1084-0000-0000-C000-000000000046}": true,
	"{000C1086-0000-0000-C000-000000000046}": true,
	"{000C1082-0000-0000-C000-000000000046}": true,
}

const (
	// biffScanCap bounds the Excel globals substream we walk; BoundSheet and
	// FilePass records sit near its start.
	biffScanCap = 1 << 20
	// Word FIB flag fEncrypted (MS-DOC 2.5.2, FibBase).
	fibEncrypted = 0x0100
	fibIdent     = 0xA5EC
	// BIFF record types (MS-XLS 2.3).
	biffEOF        = 0x000A
	biffFilePass   = 0x002F
	biffBoundSheet = 0x0085
	// BoundSheet8.dt values for XLM macro sheets and (BIFF5) VBA modules.
	sheetMacro = 0x01
	sheetVBA   = 0x06
)

// ole inspects a compound file (CFB): .doc/.xls/.ppt, .msi, .msg, encrypted
// OOXML and vbaProject.bin. mscfb builds the directory; it is bounded by
// metaReadCap and any panic it raises on hostile input is reported as
// Malformed.
func (in *inspector) ole(rep *Report, ra io.ReaderAt, size int64, depth int) {
	defer func() {
		if p := recover(); p != nil {
			rep.Malformed = true
		}
	}()
	cr := &capReaderAt{r: ra, left: metaReadCap}
	doc, err := mscfb.New(cr)
	if err != nil {
		if cr.hit {
			rep.Partial = true
			return
		}
		in.classify(rep, fmt.Errorf("while reading compound file directory: %w", err))
		return
	}
	cr.lift()
	typ := TypeOLE2
	if len(doc.File) > 0 && msiCLSIDs[doc.File[0].ID()] {
		typ = TypeMsi
	}
	var natives []*mscfb.File
	for _, f := range doc.File {
		stream := !f.FileInfo().IsDir()
		atRoot := len(f.Path) == 0
		parent := ""
		if !atRoot {
			parent = f.Path[len(f.Path)-1]
		}
		switch {
		case stream && is(f.Name, "dir") && is(parent, "VBA"):
			// Word: Macros/VBA/dir; Excel: _VBA_PROJECT_CUR/VBA/dir;
			// vbaProject.bin: VBA/dir.
			rep.Macros = true
		case stream && atRoot && (is(f.Name, "EncryptedPackage") || is(f.Name, "EncryptedSummary")):
			// Password-protected OOXML, and encrypted PowerPoint 97-2003.
			rep.Encrypted = true
		case stream && atRoot && is(f.Name, "WordDocument") && typ == TypeOLE2:
			typ = TypeDoc
			in.wordEncryption(rep, f)
		case stream && atRoot && (is(f.Name, "Workbook") || is(f.Name, "Book")) && typ == TypeOLE2:
			typ = TypeXls
			in.excelGlobals(rep, f)
		case stream && atRoot && is(f.Name, "PowerPoint Document") && typ == TypeOLE2:
			typ = TypePpt
		case atRoot && strings.HasPrefix(f.Name, "__substg1.0_") && typ == TypeOLE2:
			typ = TypeMsg
		case stream && f.Initial == 0x0001 && is(f.Name, "Ole10Native"):
			natives = append(natives, f)
		case !atRoot && (is(f.Path[0], "ObjectPool") || strings.HasPrefix(strings.ToUpper(f.Path[0]), "MBD")):
			// Embedded OLE objects in Word (ObjectPool) and Excel (MBD*).
			rep.addActive(OLEObject)
		}
	}
	rep.Type = typ
	for _, f := range natives {
		in.oleNative(rep, f, size, depth)
	}
}

// is compares compound file names, which are case-insensitive (MS-CFB
// 2.6.4): "DIR" finds the dir stream as well as "dir" does.
func is(name, want string) bool { return strings.EqualFold(name, want) }

// wordEncryption reads the FIB's fEncrypted flag.
func (in *inspector) wordEncryption(rep *Report, f *mscfb.File) {
	b := make([]byte, 12)
	if _, err := io.ReadFull(f, b); err != nil {
		in.classify(rep, fmt.Errorf("while reading the Word FIB: %w", err))
		return
	}
	if le16(b) == fibIdent && le16(b[10:])&fibEncrypted != 0 {
		rep.Encrypted = true
	}
}

// excelGlobals walks the workbook globals for XLM macro sheets (Excel 4.0
// macros, still used by droppers) and FilePass (an encrypted workbook).
func (in *inspector) excelGlobals(rep *Report, f *mscfb.File) {
	b, err := io.ReadAll(io.LimitReader(f, biffScanCap))
	if err != nil && len(b) == 0 {
		in.classify(rep, fmt.Errorf("while reading the Excel workbook stream: %w", err))
		return
	}
	macros, encrypted := scanBIFF(b)
	rep.Macros = rep.Macros || macros
	rep.Encrypted = rep.Encrypted || encrypted
}

// scanBIFF walks BIFF records up to the end of the globals substream.
func scanBIFF(b []byte) (macros, encrypted bool) {
	for i := 0; i+4 <= len(b); {
		typ, n := le16(b[i:]), int(le16(b[i+2:]))
		data := b[i+4 : min(i+4+n, len(b))]
		switch typ {
		case biffFilePass:
			return macros, true // what follows is ciphertext
		case biffBoundSheet:
			if len(data) >= 6 && (data[5] == sheetMacro || data[5] == sheetVBA) {
				macros = true
			}
		case biffEOF:
			return macros, encrypted
		}
		i += 4 + n
	}
	return macros, encrypted
}

// oleNative extracts the file inside an OLE Package object ("\x01Ole10Native"),
// the classic way to embed an executable behind a document icon, and
// inspects it as a member. The label shown on the icon is checked against
// the real file name. The stream is charged to the decompression limits,
// measured against the compound file's size: sector chains may loop, and a
// file that yields more than it holds is a bomb like any other.
func (in *inspector) oleNative(rep *Report, f *mscfb.File, size int64, depth int) {
	rep.addActive(OLEObject)
	if in.stop || !in.depthOK(rep, depth+1) || !in.takeEntry(rep) {
		rep.Partial = true
		return
	}
	b, err := io.ReadAll(in.limit(io.LimitReader(f, in.lim.MaxInspectBytes+1), size))
	if err != nil {
		in.classify(rep, fmt.Errorf("while reading an OLE package: %w", err))
		return
	}
	if int64(len(b)) > in.lim.MaxInspectBytes {
		rep.Partial = true
		return
	}
	label, name, data, ok := parseOle10Native(b)
	if !ok {
		return
	}
	if name == "" {
		name = label
	}
	c, _, _ := in.member(name, bytes.NewReader(data), depth+1, memberOpts{})
	if label != "" {
		c.RTLO = c.RTLO || hasBidi(label)
		if le, ne := ext(label), ext(name); le != "" && le != ne {
			c.NameMismatch = true // the icon says .pdf, the file is .exe
		}
	}
	rep.Entries = append(rep.Entries, c)
	rep.absorb(&c)
}

// parseOle10Native decodes the Package native data: total size (u32),
// type (u16), label and source path (NUL-terminated), a reserved u32, the
// temporary path (u32 length, then bytes), and the data (u32 size, then
// bytes). The file is named after the temporary path, which is what the
// shell writes and runs.
func parseOle10Native(b []byte) (label, name string, data []byte, ok bool) {
	if len(b) < 6 {
		return "", "", nil, false
	}
	p := 6
	var src string
	label, p = cString(b, p)
	src, p = cString(b, p)
	if p+8 > len(b) {
		return "", "", nil, false
	}
	p += 4
	tl := int(le32(b[p:]))
	p += 4
	if tl < 0 || tl > len(b)-p {
		return "", "", nil, false
	}
	tmp, _ := cString(b[:p+tl], p)
	p += tl
	if p+4 > len(b) {
		return "", "", nil, false
	}
	dl := int(le32(b[p:]))
	p += 4
	if dl < 0 || dl > len(b)-p {
		dl = len(b) - p // truncated: inspect what is there
	}
	name = baseName(tmp)
	if name == "" {
		name = baseName(src)
	}
	return label, name, b[p : p+dl], true
}

// cString reads a NUL-terminated ANSI string at p; names in OLE packages are
// in the author's code page, so invalid UTF-8 is replaced rather than
// rejected.
func cString(b []byte, p int) (string, int) {
	if p >= len(b) {
		return "", len(b)
	}
	end := bytes.IndexByte(b[p:], 0)
	if end < 0 {
		return strings.ToValidUTF8(string(b[p:]), "\uFFFD"), len(b)
	}
	return strings.ToValidUTF8(string(b[p:p+end]), "\uFFFD"), p + end + 1
}
