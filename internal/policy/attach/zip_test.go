package attach

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"
)

// Hand-made zip records, for archives archive/zip will not write.
func localHeader(name string, method uint16, data []byte, usize int) []byte {
	b := make([]byte, localLen)
	binary.LittleEndian.PutUint32(b, sigLocal)
	binary.LittleEndian.PutUint16(b[4:], 20)
	binary.LittleEndian.PutUint16(b[8:], method)
	binary.LittleEndian.PutUint32(b[14:], crc32.ChecksumIEEE(data))
	binary.LittleEndian.PutUint32(b[18:], uint32(len(data)))
	binary.LittleEndian.PutUint32(b[22:], uint32(usize))
	binary.LittleEndian.PutUint16(b[26:], uint16(len(name)))
	return append(b, name...)
}

func centralHeader(name string, method uint16, crc uint32, csize, usize int, off int) []byte {
	b := make([]byte, centralLen)
	binary.LittleEndian.PutUint32(b, sigCentral)
	binary.LittleEndian.PutUint16(b[4:], 20)
	binary.LittleEndian.PutUint16(b[6:], 20)
	binary.LittleEndian.PutUint16(b[10:], method)
	binary.LittleEndian.PutUint32(b[16:], crc)
	binary.LittleEndian.PutUint32(b[20:], uint32(csize))
	binary.LittleEndian.PutUint32(b[24:], uint32(usize))
	binary.LittleEndian.PutUint16(b[28:], uint16(len(name)))
	binary.LittleEndian.PutUint32(b[42:], uint32(off))
	return append(b, name...)
}

func endRecord(records, cdSize, cdOff int) []byte {
	b := make([]byte, endLen)
	binary.LittleEndian.PutUint32(b, sigEnd)
	binary.LittleEndian.PutUint16(b[8:], uint16(records))
	binary.LittleEndian.PutUint16(b[10:], uint16(records))
	binary.LittleEndian.PutUint32(b[12:], uint32(cdSize))
	binary.LittleEndian.PutUint32(b[16:], uint32(cdOff))
	return b
}

// quotedOverlapZip is the shape of Fifield's bomb: entry a's data contains
// entry b's local header and data, so both point into the same bytes.
func quotedOverlapZip() []byte {
	bData := []byte("hello, kernel")
	bLocal := append(localHeader("b.txt", 0, bData, len(bData)), bData...)
	aData := bLocal
	aLocal := append(localHeader("a.txt", 0, aData, len(aData)), aData...)
	bOff := localLen + len("a.txt")
	cd := append(centralHeader("a.txt", 0, crc32.ChecksumIEEE(aData), len(aData), len(aData), 0),
		centralHeader("b.txt", 0, crc32.ChecksumIEEE(bData), len(bData), len(bData), bOff)...)
	out := append(aLocal, cd...)
	return append(out, endRecord(2, len(cd), len(aLocal))...)
}

// fullOverlapZip points several directory entries at one local file.
func fullOverlapZip(n int) []byte {
	data := []byte("shared kernel")
	local := append(localHeader("a.txt", 0, data, len(data)), data...)
	var cd []byte
	for i := 0; i < n; i++ {
		name := string(rune('a'+i)) + ".txt"
		cd = append(cd, centralHeader(name, 0, crc32.ChecksumIEEE(data), len(data), len(data), 0)...)
	}
	out := append(local, cd...)
	return append(out, endRecord(n, len(cd), len(local))...)
}

func TestZipPlainTextArchive(t *testing.T) {
	z := buildZip(t,
		zipFile{name: "notes/", data: nil},
		zipFile{name: "notes/minutes.txt", data: []byte("会议纪要: nothing to see\n")},
		zipFile{name: "data.csv", data: []byte("a,b\n1,2\n")},
		zipFile{name: "logo.png", data: minimalPNG(), store: true},
	)
	r := inspectBytes(t, "bundle.zip", z, DefaultLimits())
	if r.Type != TypeZip || len(r.Flags()) != 0 {
		t.Fatalf("plain zip: type %q flags %v", r.Type, r.Flags())
	}
	if len(r.Entries) != 3 {
		t.Fatalf("entries = %d, want 3 (the directory is not one)", len(r.Entries))
	}
	want := map[string]string{"notes/minutes.txt": TypeText, "data.csv": TypeText, "logo.png": TypePNG}
	for _, e := range r.Entries {
		if want[e.Name] != e.Type {
			t.Errorf("entry %q: type %q, want %q", e.Name, e.Type, want[e.Name])
		}
	}
}

func TestZipMemberFindingsRaised(t *testing.T) {
	z := buildZip(t,
		zipFile{name: "photo.jpg", data: minimalPE()},
		zipFile{name: "readme.txt", data: []byte("open the photo")},
	)
	r := inspectBytes(t, "photos.zip", z, DefaultLimits())
	if !r.Executable || !r.NameMismatch || r.Type != TypeZip {
		t.Fatalf("PE named .jpg in a zip: %+v", r)
	}
	if r.Entries[0].Type != TypePE || !r.Entries[0].NameMismatch {
		t.Errorf("entry: %+v", r.Entries[0])
	}
}

func TestZipEncrypted(t *testing.T) {
	z := buildZip(t, zipFile{name: "secret.xlsx", data: []byte("ciphertext, as far as we know"), flags: zipFlagCrypt})
	r := inspectBytes(t, "secret.zip", z, DefaultLimits())
	if !r.Encrypted || r.Malformed {
		t.Fatalf("encrypted-flag zip: %v", r.Flags())
	}
	if r.Entries[0].Type != "" || !r.Entries[0].Encrypted {
		t.Errorf("encrypted member must not be inspected: %+v", r.Entries[0])
	}
	aes := buildZip(t, zipFile{name: "a.bin", data: []byte("AE-2 payload"), method: zipMethodAES})
	if r := inspectBytes(t, "aes.zip", aes, DefaultLimits()); !r.Encrypted {
		t.Errorf("WinZip AES (method 99): %v", r.Flags())
	}
}

func nest(t *testing.T, levels int, inner zipFile) []byte {
	b := buildZip(t, inner)
	for i := 1; i < levels; i++ {
		b = buildZip(t, zipFile{name: "level.zip", data: b})
	}
	return b
}

func TestZipNestingDepth(t *testing.T) {
	leaf := zipFile{name: "tool.exe", data: minimalPE()}
	r := inspectBytes(t, "n3.zip", nest(t, 3, leaf), DefaultLimits())
	if r.Bomb || !r.Executable {
		t.Fatalf("three levels are within the limit and the leaf is seen: %v", r.Flags())
	}
	r = inspectBytes(t, "n4.zip", nest(t, 4, leaf), DefaultLimits())
	if !r.Bomb || !r.Partial || r.Executable {
		t.Fatalf("four levels: %v", r.Flags())
	}
	// The same when the fourth level is larger than the sniffing head and
	// is therefore never held in memory.
	noise := make([]byte, 100<<10)
	for i := range noise {
		noise[i] = byte(i*31 + i>>7)
	}
	r = inspectBytes(t, "n4.zip", nest(t, 4, zipFile{name: "noise.bin", data: noise, store: true}), DefaultLimits())
	if !r.Bomb || !r.Partial {
		t.Fatalf("four levels, large leaf: %v", r.Flags())
	}
}

func TestZipDeclaredRatioBomb(t *testing.T) {
	z := buildZip(t,
		zipFile{name: "zeros.txt", data: zeros(32 << 20)},
		zipFile{name: "after.exe", data: minimalPE()},
	)
	r, spent, err := inspect(Meta{Name: "bomb.zip"}, bytes.NewReader(z), int64(len(z)), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Bomb || !r.Partial {
		t.Fatalf("1000:1 member: %v", r.Flags())
	}
	if spent.total != 0 {
		t.Errorf("declared sizes already exceed the ratio, yet %d bytes were inflated", spent.total)
	}
	if !r.Executable || r.Entries[1].Type != "" {
		t.Errorf("members after a bomb get name checks only: %+v", r.Entries[1])
	}
}

func TestZipTotalLimit(t *testing.T) {
	noise := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, 16:1 at most
	z := buildZip(t, zipFile{name: "a.txt", data: noise}, zipFile{name: "b.txt", data: noise})
	r := inspectBytes(t, "big.zip", z, Limits{MaxTotalBytes: 1<<20 + 100})
	if !r.Bomb {
		t.Fatalf("2 MiB against a 1 MiB total: %v", r.Flags())
	}
	if r := inspectBytes(t, "big.zip", z, DefaultLimits()); r.Bomb {
		t.Fatalf("2 MiB against the default total: %v", r.Flags())
	}
}

func TestZipEntriesLimit(t *testing.T) {
	var files []zipFile
	for i := 0; i < 6; i++ {
		files = append(files, zipFile{name: strings.Repeat("x", i+1) + ".txt", data: []byte("x")})
	}
	z := buildZip(t, files...)
	r := inspectBytes(t, "many.zip", z, Limits{MaxEntries: 5})
	if !r.Bomb || !r.Partial {
		t.Fatalf("6 entries, limit 5: %v", r.Flags())
	}
	if r := inspectBytes(t, "many.zip", z, Limits{MaxEntries: 6}); r.Bomb {
		t.Fatalf("6 entries, limit 6: %v", r.Flags())
	}
}

func TestZipOverlap(t *testing.T) {
	r := inspectBytes(t, "quoted.zip", quotedOverlapZip(), DefaultLimits())
	if !r.Bomb || r.Type != TypeZip {
		t.Fatalf("quoted overlap: %s %v", r.Type, r.Flags())
	}
	r = inspectBytes(t, "full.zip", fullOverlapZip(3), DefaultLimits())
	if !r.Bomb || !r.Malformed {
		t.Fatalf("full overlap: %v", r.Flags())
	}
}

func TestZipLocalNameDiffers(t *testing.T) {
	z := buildZip(t, zipFile{name: "a.txt", data: []byte("hello"), store: true})
	copy(z[localLen:], "a.exe") // the name an extractor uses
	r := inspectBytes(t, "a.zip", z, DefaultLimits())
	if !r.Malformed || !r.Executable {
		t.Fatalf("local name a.exe behind directory name a.txt: %v", r.Flags())
	}
}

func TestZipDuplicateNames(t *testing.T) {
	z := buildZip(t, zipFile{name: "a.txt", data: []byte("one")}, zipFile{name: "a.txt", data: []byte("two")})
	if r := inspectBytes(t, "dup.zip", z, DefaultLimits()); !r.Malformed {
		t.Fatalf("duplicate names: %v", r.Flags())
	}
}

func TestZipTruncatedAndCorrupt(t *testing.T) {
	z := buildZip(t, zipFile{name: "a.txt", data: []byte("hello, world"), store: true})
	if r := inspectBytes(t, "cut.zip", z[:len(z)-10], DefaultLimits()); !r.Malformed {
		t.Errorf("truncated: %v", r.Flags())
	}
	bad := bytes.Clone(z)
	bad[localLen+len("a.txt")] ^= 0xFF // first data byte: CRC no longer matches
	if r := inspectBytes(t, "crc.zip", bad, DefaultLimits()); !r.Malformed {
		t.Errorf("CRC mismatch: %v", r.Flags())
	}
	count := bytes.Clone(z)
	binary.LittleEndian.PutUint16(count[len(count)-endLen+10:], 2) // claims two records
	if r := inspectBytes(t, "count.zip", count, DefaultLimits()); !r.Malformed {
		t.Errorf("record count mismatch: %v", r.Flags())
	}
}

func TestZipUnsupportedMethod(t *testing.T) {
	z := buildZip(t, zipFile{name: "a.txt", data: []byte("BZh91AY&SY"), method: 12})
	r := inspectBytes(t, "bz.zip", z, DefaultLimits())
	if r.Malformed || !r.Partial {
		t.Fatalf("bzip2 member: %v", r.Flags())
	}
}

func TestZipKinds(t *testing.T) {
	jar := buildZip(t, zipFile{name: "META-INF/MANIFEST.MF", data: []byte("Manifest-Version: 1.0\n")},
		zipFile{name: "a/Main.class", data: []byte{0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 0x34}})
	r := inspectBytes(t, "app.jar", jar, DefaultLimits())
	if r.Type != TypeJar || !r.Executable || len(r.Entries) != 0 {
		t.Errorf("jar: %s %v entries %d (class files are expected in a jar, not listed)", r.Type, r.Flags(), len(r.Entries))
	}
	apk := buildZip(t, zipFile{name: "AndroidManifest.xml", data: []byte{3, 0, 8, 0}}, zipFile{name: "classes.dex", data: []byte("dex\n035\x00")})
	if r := inspectBytes(t, "app.apk", apk, DefaultLimits()); r.Type != TypeAPK || !r.Executable {
		t.Errorf("apk: %s %v", r.Type, r.Flags())
	}
	if r := inspectBytes(t, "holiday.zip", apk, DefaultLimits()); !r.NameMismatch {
		t.Errorf("apk named .zip: %v", r.Flags())
	}
}

// countingReaderAt counts the bytes requested of it.
type countingReaderAt struct {
	r interface {
		ReadAt([]byte, int64) (int, error)
	}
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.n += int64(len(p))
	return c.r.ReadAt(p, off)
}

func TestZipReadBudget(t *testing.T) {
	var files []zipFile
	for i := 0; i < 50; i++ {
		files = append(files, zipFile{name: strings.Repeat("d", i+1) + ".bin", data: bytes.Repeat([]byte{byte(i)}, 4096), store: true})
	}
	z := buildZip(t, files...)
	lim := Limits{MaxInspectBytes: 64 << 10}
	c := &countingReaderAt{r: bytes.NewReader(z)}
	r, err := Inspect(Meta{Name: "big.zip"}, c, int64(len(z)), lim)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Partial || r.Bomb || r.Malformed {
		t.Errorf("read budget hit: %v", r.Flags())
	}
	if c.n > lim.MaxInspectBytes {
		t.Errorf("read %d bytes, budget %d", c.n, lim.MaxInspectBytes)
	}
}

// zip64Archive hand-writes a one-member zip64 archive: saturated 32-bit
// sizes, the zip64 extra field, and the zip64 end record and locator.
func zip64Archive(name string, data []byte) []byte {
	extra := func() []byte {
		e := binary.LittleEndian.AppendUint16(nil, zip64ExtraID)
		e = binary.LittleEndian.AppendUint16(e, 16)
		e = binary.LittleEndian.AppendUint64(e, uint64(len(data)))
		return binary.LittleEndian.AppendUint64(e, uint64(len(data)))
	}()
	crc := crc32.ChecksumIEEE(data)
	lh := make([]byte, localLen)
	binary.LittleEndian.PutUint32(lh, sigLocal)
	binary.LittleEndian.PutUint16(lh[4:], 45)
	binary.LittleEndian.PutUint32(lh[14:], crc)
	binary.LittleEndian.PutUint32(lh[18:], 0xFFFFFFFF)
	binary.LittleEndian.PutUint32(lh[22:], 0xFFFFFFFF)
	binary.LittleEndian.PutUint16(lh[26:], uint16(len(name)))
	binary.LittleEndian.PutUint16(lh[28:], uint16(len(extra)))
	out := append(append(append(lh, name...), extra...), data...)
	cdOff := len(out)
	ch := make([]byte, centralLen)
	binary.LittleEndian.PutUint32(ch, sigCentral)
	binary.LittleEndian.PutUint16(ch[4:], 45)
	binary.LittleEndian.PutUint16(ch[6:], 45)
	binary.LittleEndian.PutUint32(ch[16:], crc)
	binary.LittleEndian.PutUint32(ch[20:], 0xFFFFFFFF)
	binary.LittleEndian.PutUint32(ch[24:], 0xFFFFFFFF)
	binary.LittleEndian.PutUint16(ch[28:], uint16(len(name)))
	binary.LittleEndian.PutUint16(ch[30:], uint16(len(extra)))
	out = append(append(append(out, ch...), name...), extra...)
	cdSize := len(out) - cdOff
	end64 := len(out)
	e := binary.LittleEndian.AppendUint32(nil, sigEnd64)
	e = binary.LittleEndian.AppendUint64(e, end64Len-12)
	e = binary.LittleEndian.AppendUint16(e, 45)
	e = binary.LittleEndian.AppendUint16(e, 45)
	e = binary.LittleEndian.AppendUint32(e, 0)
	e = binary.LittleEndian.AppendUint32(e, 0)
	e = binary.LittleEndian.AppendUint64(e, 1)
	e = binary.LittleEndian.AppendUint64(e, 1)
	e = binary.LittleEndian.AppendUint64(e, uint64(cdSize))
	e = binary.LittleEndian.AppendUint64(e, uint64(cdOff))
	e = binary.LittleEndian.AppendUint32(e, sigEnd64Loc)
	e = binary.LittleEndian.AppendUint32(e, 0)
	e = binary.LittleEndian.AppendUint64(e, uint64(end64))
	e = binary.LittleEndian.AppendUint32(e, 1)
	out = append(out, e...)
	return append(out, endRecord(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)...)
}

func TestZip64(t *testing.T) {
	r := inspectBytes(t, "big.zip", zip64Archive("tool.exe", minimalPE()), DefaultLimits())
	if r.Malformed || !r.Executable || len(r.Entries) != 1 || r.Entries[0].Type != TypePE {
		t.Fatalf("zip64: %v %+v", r.Flags(), r.Entries)
	}
	// A zip64 record missing the extra field it needs.
	b := zip64Archive("tool.exe", minimalPE())
	i := bytes.LastIndex(b, []byte{0x01, 0x00, 0x10, 0x00})
	b[i] = 0x99 // the CD's extra field is no longer zip64
	if r := inspectBytes(t, "big.zip", b, DefaultLimits()); !r.Malformed {
		t.Errorf("zip64 without its extra field: %v", r.Flags())
	}
}

func TestZipLargeNestedMember(t *testing.T) {
	// A nested archive larger than the sniffing head is held in memory and
	// opened; one larger than MaxInspectBytes is not.
	noise := make([]byte, 200<<10)
	for i := range noise {
		noise[i] = byte(i*7 + i>>8)
	}
	inner := buildZip(t, zipFile{name: "noise.bin", data: noise, store: true}, zipFile{name: "run.exe", data: minimalPE()})
	outer := buildZip(t, zipFile{name: "inner.zip", data: inner})
	r := inspectBytes(t, "outer.zip", outer, DefaultLimits())
	if !r.Executable || r.Partial || r.Entries[0].Type != TypeZip {
		t.Fatalf("200 KiB nested zip: %v", r.Flags())
	}
	r = inspectBytes(t, "outer.zip", outer, Limits{MaxInspectBytes: 128 << 10})
	if r.Executable || !r.Partial || r.Bomb {
		t.Fatalf("nested zip over MaxInspectBytes: %v", r.Flags())
	}
}
