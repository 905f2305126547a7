package attach

// Fixture builders shared by the tests, the fuzz seeds and the benchmarks.
// Every fixture is built in Go at test time; nothing is downloaded and no
// real malware is involved: "executables" are minimal headers.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"io"
	"testing"
	"unicode/utf16"
)

// minimalPE is the smallest file the PE check accepts: a DOS header whose
// e_lfanew points at the "PE\0\0" signature and the COFF machine field; the
// detector reads nothing else.
func minimalPE() []byte {
	b := make([]byte, 0x200)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3C:], 0x80)
	copy(b[0x80:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(b[0x84:], 0x8664) // machine: AMD64
	return b
}

func minimalELF() []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF\x02\x01\x01")
	return b
}

func minimalPNG() []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), make([]byte, 40)...)
}

func minimalPDF() []byte {
	return []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
}

// zipFile is one member for buildZip.
type zipFile struct {
	name   string
	data   []byte
	store  bool   // method Store instead of Deflate
	flags  uint16 // extra general-purpose flags, e.g. 1 for "encrypted"
	method uint16 // when non-zero, written raw with this method
}

// buildZip writes members with archive/zip.
func buildZip(t testing.TB, files ...zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Flags: f.flags}
		if f.store {
			h.Method = zip.Store
		}
		if f.method != 0 {
			h.Method = f.method
			h.CRC32 = crc32.ChecksumIEEE(f.data)
			h.CompressedSize64 = uint64(len(f.data))
			h.UncompressedSize64 = uint64(len(f.data))
			fw, err := w.CreateRaw(h)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fw.Write(f.data); err != nil {
				t.Fatal(err)
			}
			continue
		}
		fw, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const contentTypesXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`

const rootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`

// docRels carries an external hyperlink: common in clean documents and not
// a finding.
const docRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.com/" TargetMode="External"/></Relationships>`

func documentXML(body string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body + `</w:body></w:document>`
}

const plainBody = `<w:p><w:r><w:t>Quarterly results &amp; outlook</w:t></w:r></w:p>` +
	// A harmless PAGE field: fields alone are not DDE.
	`<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`

// docxParts returns the parts of a plain Word document plus extra.
func docxParts(body string, extra ...zipFile) []zipFile {
	parts := []zipFile{
		{name: "[Content_Types].xml", data: []byte(contentTypesXML)},
		{name: "_rels/.rels", data: []byte(rootRels)},
		{name: "word/document.xml", data: []byte(documentXML(body))},
		{name: "word/_rels/document.xml.rels", data: []byte(docRels)},
		{name: "word/settings.xml", data: []byte(`<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>`)},
		{name: "docProps/thumbnail.png", data: minimalPNG(), store: true},
	}
	return append(parts, extra...)
}

func buildDocx(t testing.TB, extra ...zipFile) []byte {
	return buildZip(t, docxParts(plainBody, extra...)...)
}

func settingsRels(target string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="` + target + `" TargetMode="External"/></Relationships>`
}

// cfbNode is a storage (children) or stream (data) for buildCFB.
type cfbNode struct {
	name     string
	data     []byte
	children []*cfbNode
	storage  bool
}

func stream(name string, data []byte) *cfbNode { return &cfbNode{name: name, data: data} }
func storage(name string, children ...*cfbNode) *cfbNode {
	return &cfbNode{name: name, children: children, storage: true}
}

// buildCFB writes a version 3 compound file (512-byte sectors). Streams are
// padded to the 4096-byte mini-stream cutoff so that every stream lives in
// regular sectors and no mini stream is needed; siblings are chained through
// right-sibling links, which readers accept though it is not a balanced
// red-black tree.
func buildCFB(t testing.TB, clsid []byte, children ...*cfbNode) []byte {
	t.Helper()
	const (
		sector   = 512
		free     = 0xFFFFFFFF
		end      = 0xFFFFFFFE
		fatSect  = 0xFFFFFFFD
		noStream = 0xFFFFFFFF
	)
	root := storage("Root Entry", children...)
	var nodes []*cfbNode
	var walk func(n *cfbNode)
	walk = func(n *cfbNode) {
		nodes = append(nodes, n)
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(root)
	id := map[*cfbNode]uint32{}
	for i, n := range nodes {
		id[n] = uint32(i)
	}
	for _, n := range nodes {
		if !n.storage && len(n.data) > 0 && len(n.data) < 4096 {
			n.data = append(n.data, make([]byte, 4096-len(n.data))...)
		}
	}
	dirSectors := (len(nodes) + 3) / 4
	dataSectors := 0
	for _, n := range nodes {
		dataSectors += (len(n.data) + sector - 1) / sector
	}
	fatSectors := 1
	for (fatSectors+dirSectors+dataSectors+127)/128 > fatSectors {
		fatSectors++
	}
	if fatSectors > 109 {
		t.Fatal("buildCFB: too large for a header-only DIFAT")
	}
	total := fatSectors + dirSectors + dataSectors
	fat := make([]uint32, fatSectors*128)
	for i := range fat {
		fat[i] = free
	}
	for i := 0; i < fatSectors; i++ {
		fat[i] = fatSect
	}
	chain := func(start, n int) {
		for i := 0; i < n; i++ {
			if i == n-1 {
				fat[start+i] = end
			} else {
				fat[start+i] = uint32(start + i + 1)
			}
		}
	}
	dirStart := fatSectors
	chain(dirStart, dirSectors)
	next := dirStart + dirSectors
	startOf := map[*cfbNode]uint32{}
	for _, n := range nodes {
		k := (len(n.data) + sector - 1) / sector
		if k == 0 {
			startOf[n] = end
			continue
		}
		startOf[n] = uint32(next)
		chain(next, k)
		next += k
	}
	out := make([]byte, sector*(1+total))
	h := out[:sector]
	copy(h, sigOLE2)
	binary.LittleEndian.PutUint16(h[24:], 0x003E)
	binary.LittleEndian.PutUint16(h[26:], 3)
	binary.LittleEndian.PutUint16(h[28:], 0xFFFE)
	binary.LittleEndian.PutUint16(h[30:], 9)
	binary.LittleEndian.PutUint16(h[32:], 6)
	binary.LittleEndian.PutUint32(h[44:], uint32(fatSectors))
	binary.LittleEndian.PutUint32(h[48:], uint32(dirStart))
	binary.LittleEndian.PutUint32(h[56:], 4096)
	binary.LittleEndian.PutUint32(h[60:], end)
	binary.LittleEndian.PutUint32(h[68:], end)
	for i := 0; i < 109; i++ {
		v := uint32(free)
		if i < fatSectors {
			v = uint32(i)
		}
		binary.LittleEndian.PutUint32(h[76+4*i:], v)
	}
	sec := func(i int) []byte { return out[sector*(i+1) : sector*(i+2)] }
	for i := 0; i < fatSectors; i++ {
		for j := 0; j < 128; j++ {
			binary.LittleEndian.PutUint32(sec(i)[4*j:], fat[i*128+j])
		}
	}
	entry := func(i int) []byte { return sec(dirStart + i/4)[128*(i%4):][:128] }
	for i, n := range nodes {
		e := entry(i)
		u := utf16.Encode([]rune(n.name))
		for j, c := range u {
			binary.LittleEndian.PutUint16(e[2*j:], c)
		}
		binary.LittleEndian.PutUint16(e[64:], uint16(2*(len(u)+1)))
		switch {
		case i == 0:
			e[66] = 5
		case n.storage:
			e[66] = 1
		default:
			e[66] = 2
		}
		e[67] = 1 // black
		binary.LittleEndian.PutUint32(e[68:], noStream)
		binary.LittleEndian.PutUint32(e[72:], noStream)
		binary.LittleEndian.PutUint32(e[76:], noStream)
		if i == 0 && clsid != nil {
			copy(e[80:96], clsid)
		}
		binary.LittleEndian.PutUint32(e[116:], startOf[n])
		binary.LittleEndian.PutUint32(e[120:], uint32(len(n.data)))
		if k := startOf[n]; k != end {
			copy(out[sector*(int(k)+1):], n.data)
		}
	}
	for _, n := range nodes {
		if len(n.children) == 0 {
			continue
		}
		binary.LittleEndian.PutUint32(entry(int(id[n]))[76:], id[n.children[0]])
		for k := 0; k+1 < len(n.children); k++ {
			binary.LittleEndian.PutUint32(entry(int(id[n.children[k]]))[72:], id[n.children[k+1]])
		}
	}
	// Directory entries after the last one stay zero: unallocated.
	return out
}

// vbaProject is the vbaProject.bin of a macro-enabled document: a compound
// file with VBA/dir and _VBA_PROJECT. Its content is not real VBA.
func vbaProject(t testing.TB) []byte {
	return buildCFB(t, nil,
		storage("VBA", stream("dir", []byte{1, 2, 3}), stream("_VBA_PROJECT", []byte{0xCC, 0x61}), stream("Module1", []byte("Attribute VB_Name"))),
		stream("PROJECT", []byte("ID=\"{00000000-0000-0000-0000-000000000000}\"")),
	)
}

// wordDocFIB is the start of a WordDocument stream.
func wordDocFIB(encrypted bool) []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint16(b, fibIdent)
	binary.LittleEndian.PutUint16(b[2:], 0x00C1)
	if encrypted {
		binary.LittleEndian.PutUint16(b[10:], fibEncrypted)
	}
	return b
}

func biffRecord(typ uint16, data []byte) []byte {
	b := make([]byte, 4, 4+len(data))
	binary.LittleEndian.PutUint16(b, typ)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(data)))
	return append(b, data...)
}

// workbookStream is a BIFF8 globals substream with one sheet of kind dt.
func workbookStream(dt byte, filePass bool) []byte {
	var b []byte
	b = append(b, biffRecord(0x0809, make([]byte, 16))...) // BOF
	if filePass {
		b = append(b, biffRecord(biffFilePass, make([]byte, 54))...)
	}
	sheet := []byte{0, 0, 0, 0, 0, dt, 6, 0, 'S', 'h', 'e', 'e', 't', '1'}
	b = append(b, biffRecord(biffBoundSheet, sheet)...)
	return append(b, biffRecord(biffEOF, nil)...)
}

// oleNative builds Ole10Native package data holding file under name, shown
// with label.
func oleNative(label, name string, file []byte) []byte {
	var b bytes.Buffer
	body := func() []byte {
		var p bytes.Buffer
		binary.Write(&p, binary.LittleEndian, uint16(2))
		p.WriteString(label + "\x00")
		p.WriteString(`C:\Users\a\` + name + "\x00")
		binary.Write(&p, binary.LittleEndian, uint32(0x00030000))
		tmp := `C:\Users\a\AppData\Local\Temp\` + name + "\x00"
		binary.Write(&p, binary.LittleEndian, uint32(len(tmp)))
		p.WriteString(tmp)
		binary.Write(&p, binary.LittleEndian, uint32(len(file)))
		p.Write(file)
		return p.Bytes()
	}()
	binary.Write(&b, binary.LittleEndian, uint32(len(body)))
	b.Write(body)
	return b.Bytes()
}

// oleObjectWithPackage is a word/embeddings/oleObject1.bin that packages an
// executable behind a PDF label.
func oleObjectWithPackage(t testing.TB) []byte {
	return buildCFB(t, nil,
		stream("\x01Ole10Native", oleNative("invoice.pdf", "invoice.pdf.exe", minimalPE())),
		stream("\x01CompObj", []byte{1, 0, 0xFE, 0xFF}),
	)
}

func gzipBytes(t testing.TB, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Name = name
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarBytes(t testing.TB, files ...zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for _, f := range files {
		if err := w.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zeros is a highly compressible payload.
func zeros(n int) []byte { return make([]byte, n) }

// rar5Block frames a RAR 5 header body with its size and CRC32.
func rar5Block(body []byte) []byte {
	size := appendVint(nil, uint64(len(body)))
	h := append(size, body...)
	out := binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(h))
	return append(out, h...)
}

func appendVint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// rar5Archive builds a RAR 5 archive with stored file headers (data omitted:
// data size 0) named names; encrypted adds the file encryption record.
func rar5Archive(encrypted bool, names ...string) []byte {
	b := append([]byte(nil), sigRar5...)
	b = append(b, rar5Block([]byte{1, 0, 0})...) // main header: type 1, flags 0, archive flags 0
	for _, n := range names {
		var body []byte
		var extra []byte
		if encrypted {
			rec := appendVint(nil, rar5ExtraCrypt)
			rec = append(rec, make([]byte, 8)...)
			extra = append(appendVint(nil, uint64(len(rec))), rec...)
		}
		body = appendVint(body, rar5File)
		flags := uint64(0)
		if len(extra) > 0 {
			flags |= rar5HasExtra
		}
		body = appendVint(body, flags)
		if len(extra) > 0 {
			body = appendVint(body, uint64(len(extra)))
		}
		body = appendVint(body, 0)  // file flags
		body = appendVint(body, 10) // unpacked size
		body = appendVint(body, 0)  // attributes
		body = appendVint(body, 0)  // compression info
		body = appendVint(body, 0)  // host OS
		body = appendVint(body, uint64(len(n)))
		body = append(body, n...)
		body = append(body, extra...)
		b = append(b, rar5Block(body)...)
	}
	return append(b, rar5Block([]byte{rar5End, 0, 0})...)
}

// rar5EncryptedHeaders starts with the archive encryption header.
func rar5EncryptedHeaders() []byte {
	b := append([]byte(nil), sigRar5...)
	body := []byte{rar5Crypt, 0, 0, 0, 0x0F}
	body = append(body, make([]byte, 16)...)
	return append(b, rar5Block(body)...)
}

// rar4Archive builds a RAR 4 archive: marker, main header (flags), one
// stored file header.
func rar4Archive(mainFlags, fileFlags uint16, name string) []byte {
	b := append([]byte(nil), sigRar4...)
	block := func(typ byte, flags uint16, body []byte) []byte {
		h := make([]byte, 7, 7+len(body))
		h[2] = typ
		binary.LittleEndian.PutUint16(h[3:], flags)
		binary.LittleEndian.PutUint16(h[5:], uint16(7+len(body)))
		h = append(h, body...)
		binary.LittleEndian.PutUint16(h, uint16(crc32.ChecksumIEEE(h[2:])))
		return h
	}
	b = append(b, block(rar4Main, mainFlags, make([]byte, 6))...)
	fh := make([]byte, 25)
	binary.LittleEndian.PutUint32(fh[0:], 0) // packed size
	binary.LittleEndian.PutUint32(fh[4:], 0) // unpacked size
	binary.LittleEndian.PutUint16(fh[19:], uint16(len(name)))
	fh = append(fh, name...)
	b = append(b, block(rar4File, fileFlags|rar4LongBlock, fh)...)
	return append(b, block(rar4End, 0, nil)...)
}

// sevenZip builds a 7z file whose header block is hdr.
func sevenZipFile(hdr []byte) []byte {
	b := make([]byte, 32)
	copy(b, sig7z)
	b[6], b[7] = 0, 4
	binary.LittleEndian.PutUint64(b[12:], 0)
	binary.LittleEndian.PutUint64(b[20:], uint64(len(hdr)))
	binary.LittleEndian.PutUint32(b[28:], crc32.ChecksumIEEE(hdr))
	binary.LittleEndian.PutUint32(b[8:], crc32.ChecksumIEEE(b[12:32]))
	return append(b, hdr...)
}

// szStreams is a StreamsInfo with one pack stream and one folder made of the
// given coder ids (simple coders, no properties).
func szStreams(coders ...[]byte) []byte {
	b := []byte{szPackInfo, 0, 1, szSize, 10, szEnd}
	b = append(b, szUnpackInfo, szFolder, 1, 0, byte(len(coders)))
	for _, id := range coders {
		b = append(b, byte(len(id)))
		b = append(b, id...)
	}
	for i := 1; i < len(coders); i++ { // chain coders: bind pairs
		b = append(b, byte(i), byte(i-1))
	}
	b = append(b, szCodersUnpackSze)
	for range coders {
		b = append(b, 20)
	}
	return append(b, szEnd, szEnd)
}

var (
	szLZMA = []byte{0x03, 0x01, 0x01}
	szCopy = []byte{0x00}
)

// hugeZeroReader yields n zero bytes without allocating them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

// deflatedZeros returns a zip whose one member inflates to n zeros.
func zipOfZeros(t testing.TB, name string, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	fw, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(fw, &zeroReader{n: n}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// inspectBytes runs Inspect over b with the given name and limits.
func inspectBytes(t testing.TB, name string, b []byte, lim Limits) Report {
	t.Helper()
	r, err := Inspect(Meta{Name: name, Size: int64(len(b))}, bytes.NewReader(b), int64(len(b)), lim)
	if err != nil {
		t.Fatalf("Inspect(%q): %v", name, err)
	}
	return r
}

func hasActive(r Report, kind string) bool {
	for _, a := range r.ActiveContent {
		if a == kind {
			return true
		}
	}
	return false
}
