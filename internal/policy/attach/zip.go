package attach

import (
	"archive/zip"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Zip record signatures and fixed sizes (APPNOTE 4.3).
const (
	sigLocal      = 0x04034b50
	sigCentral    = 0x02014b50
	sigEnd        = 0x06054b50
	sigEnd64      = 0x06064b50
	sigEnd64Loc   = 0x07064b50
	localLen      = 30
	centralLen    = 46
	endLen        = 22
	end64Len      = 56
	end64LocLen   = 20
	endSearchLen  = 65 * 1024 // as archive/zip: 22 + a 65535-byte comment fits
	zipFlagCrypt  = 0x0001    // general purpose bit 0: entry is encrypted
	zipFlagDesc   = 0x0008    // bit 3: sizes and CRC follow the data
	zipMethodAES  = 99        // WinZip AES: always encrypted
	zip64ExtraID  = 0x0001
	maxZipOffset  = math.MaxInt64
	zipIndexSlack = 256 << 10 // what archive/zip may read beyond our walk: end search, probes, bufio
)

var errZipFormat = errors.New("not a valid zip")

// zipEntry is one central directory record as we read it ourselves.
type zipEntry struct {
	name      string
	localName string // set when the local header names the entry differently
	flags     uint16
	method    uint16
	crc       uint32
	csize     uint64
	usize     uint64
	headerOff int64 // absolute offset of the local header
	bad       bool  // local header missing or inconsistent: do not decompress
}

// zipLayout is the structure of an archive as walked by hand. archive/zip
// trusts the central directory; the attacks we look for (overlapping files,
// names that differ between directory and local header, more entries than
// declared) live in the disagreement between the two.
type zipLayout struct {
	entries   []zipEntry
	cdStart   int64
	cdLen     int64 // bytes of central directory walked
	tooMany   bool  // more records than the entry budget allows
	malformed bool
	overlap   bool
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// readAtFull reads exactly n bytes at off; a short read is an error.
func readAtFull(ra io.ReaderAt, off int64, n int) ([]byte, error) {
	if off < 0 {
		return nil, fmt.Errorf("negative offset %d: %w", off, errZipFormat)
	}
	b := make([]byte, n)
	k, err := ra.ReadAt(b, off)
	if k == n {
		return b, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return b[:k], err
}

// findEnd locates the end of central directory record the way archive/zip
// does (the last signature in the final 65 KiB whose comment fits), so that
// both of us read the same directory.
func findEnd(ra io.ReaderAt, size int64) (int64, []byte, error) {
	n := min(size, endSearchLen)
	buf, err := readAtFull(ra, size-n, int(n))
	if err != nil {
		return 0, nil, fmt.Errorf("while reading the archive tail: %w", err)
	}
	for i := len(buf) - endLen; i >= 0; i-- {
		if le32(buf[i:]) != sigEnd {
			continue
		}
		if i+endLen+int(le16(buf[i+20:])) > len(buf) {
			return 0, nil, fmt.Errorf("truncated archive comment: %w", errZipFormat)
		}
		return size - n + int64(i), buf[i : i+endLen], nil
	}
	return 0, nil, fmt.Errorf("no end of central directory: %w", errZipFormat)
}

// zipLayout walks the end record, the central directory and every local
// header, within the entry budget.
func (in *inspector) zipLayout(ra io.ReaderAt, size int64) (*zipLayout, error) {
	endOff, rec, err := findEnd(ra, size)
	if err != nil {
		return nil, err
	}
	records := uint64(le16(rec[10:]))
	cdSize := uint64(le32(rec[12:]))
	cdOff := uint64(le32(rec[16:]))
	// archive/zip looks for zip64 on these exact values; so do we.
	if records == 0xffff || cdSize == 0xffff || cdOff == 0xffffffff {
		if p, ok, err := findEnd64(ra, endOff); err != nil {
			return nil, err
		} else if ok {
			r64, err := readAtFull(ra, p, end64Len)
			if err != nil {
				return nil, fmt.Errorf("while reading the zip64 end record: %w", err)
			}
			if le32(r64) != sigEnd64 {
				return nil, fmt.Errorf("bad zip64 end record signature: %w", errZipFormat)
			}
			records, cdSize, cdOff = le64(r64[32:]), le64(r64[40:]), le64(r64[48:])
			endOff = p
		}
	}
	if cdSize > maxZipOffset || cdOff > maxZipOffset {
		return nil, fmt.Errorf("central directory out of range: %w", errZipFormat)
	}
	// Data before the archive (self-extractors, shell-script jars) shifts
	// every offset; archive/zip calls the shift baseOffset. Wrapping int64
	// arithmetic here matches its own.
	base := endOff - int64(cdSize) - int64(cdOff)
	start := base + int64(cdOff)
	if start < 0 || start >= size {
		return nil, fmt.Errorf("central directory offset %d outside the file: %w", start, errZipFormat)
	}
	if base > 0 && int64(cdOff) < size {
		if h, err := readAtFull(ra, int64(cdOff), 4); err == nil && le32(h) == sigCentral {
			base, start = 0, int64(cdOff)
		}
	}
	lay := &zipLayout{cdStart: start}
	if err := in.walkCentral(lay, ra, base, records); err != nil {
		return lay, err
	}
	in.checkLocals(lay, ra, size)
	return lay, nil
}

// findEnd64 follows the zip64 locator just before the end record.
func findEnd64(ra io.ReaderAt, endOff int64) (int64, bool, error) {
	if endOff < end64LocLen {
		return 0, false, nil
	}
	loc, err := readAtFull(ra, endOff-end64LocLen, end64LocLen)
	if err != nil {
		return 0, false, fmt.Errorf("while reading the zip64 locator: %w", err)
	}
	if le32(loc) != sigEnd64Loc || le32(loc[4:]) != 0 || le32(loc[16:]) != 1 {
		return 0, false, nil
	}
	p := le64(loc[8:])
	if p > maxZipOffset {
		return 0, false, fmt.Errorf("zip64 end record out of range: %w", errZipFormat)
	}
	return int64(p), true, nil
}

// walkCentral reads directory records until one does not start with the
// signature, as archive/zip does, but stops once the entry budget is spent so
// that an archive claiming millions of entries costs no more than the limit.
func (in *inspector) walkCentral(lay *zipLayout, ra io.ReaderAt, base int64, records uint64) error {
	off := lay.cdStart
	room := in.lim.MaxEntries - in.entries
	var stopErr error
	for {
		if len(lay.entries) >= room {
			if h, err := readAtFull(ra, off, 4); err == nil && le32(h) == sigCentral {
				lay.tooMany = true
			}
			break
		}
		h, err := readAtFull(ra, off, centralLen)
		if err != nil {
			stopErr = in.budgetErr(err)
			break
		}
		if le32(h) != sigCentral {
			break
		}
		n, m, k := int(le16(h[28:])), int(le16(h[30:])), int(le16(h[32:]))
		v, err := readAtFull(ra, off+centralLen, n+m+k)
		if err != nil {
			stopErr = in.budgetErr(err)
			break
		}
		e := zipEntry{
			name:   string(v[:n]),
			flags:  le16(h[8:]),
			method: le16(h[10:]),
			crc:    le32(h[16:]),
			csize:  uint64(le32(h[20:])),
			usize:  uint64(le32(h[24:])),
		}
		local := uint64(le32(h[42:]))
		if !zip64Sizes(v[n:n+m], &e, &local) {
			// archive/zip stops here too; the count check below then fails.
			lay.malformed = true
			break
		}
		e.headerOff = base + int64(local)
		lay.entries = append(lay.entries, e)
		off += int64(centralLen + n + m + k)
	}
	lay.cdLen = off - lay.cdStart
	in.entries += len(lay.entries)
	if stopErr != nil {
		return fmt.Errorf("while reading central directory: %w", stopErr)
	}
	if !lay.tooMany && uint64(len(lay.entries)) != records {
		lay.malformed = true
	}
	return nil
}

// budgetErr keeps an error that came from our own limits or from storage,
// which must stop the walk, and drops a format error, which (as in
// archive/zip) only ends the directory.
func (in *inspector) budgetErr(err error) error {
	if errors.Is(err, errBudget) || in.exhausted || in.ioErr != nil {
		return err
	}
	return nil
}

// zip64Sizes applies the zip64 extra field: 64-bit values replace the 32-bit
// ones that are saturated, in the fixed order usize, csize, offset. It
// reports false when a needed value is missing (archive/zip rejects those).
func zip64Sizes(extra []byte, e *zipEntry, local *uint64) bool {
	needU, needC, needO := e.usize == 0xffffffff, e.csize == 0xffffffff, *local == 0xffffffff
	for len(extra) >= 4 {
		id, sz := le16(extra), int(le16(extra[2:]))
		extra = extra[4:]
		if sz > len(extra) {
			break
		}
		f := extra[:sz]
		extra = extra[sz:]
		if id != zip64ExtraID {
			continue
		}
		if needU && len(f) >= 8 {
			e.usize, f, needU = le64(f), f[8:], false
		}
		if needC && len(f) >= 8 {
			e.csize, f, needC = le64(f), f[8:], false
		}
		if needO && len(f) >= 8 {
			*local, needO = le64(f), false
		}
	}
	return !needC && !needO
}

type span struct{ start, end int64 }

// checkLocals compares each local header with its directory record and
// looks for overlapping files and duplicate names. Overlap is the mark of
// Fifield's non-recursive bomb, where many entries share one compressed
// kernel; duplicates and differing names let two unzip tools extract
// different files from one archive.
func (in *inspector) checkLocals(lay *zipLayout, ra io.ReaderAt, size int64) {
	seen := make(map[string]struct{}, len(lay.entries))
	spans := make([]span, 0, len(lay.entries))
	for i := range lay.entries {
		e := &lay.entries[i]
		if _, dup := seen[e.name]; dup {
			lay.malformed = true
		}
		seen[e.name] = struct{}{}
		lh, err := readAtFull(ra, e.headerOff, localLen+len(e.name))
		if err != nil {
			e.bad = true
			if in.budgetErr(err) != nil {
				return
			}
			lay.malformed = true
			continue
		}
		if le32(lh) != sigLocal {
			e.bad, lay.malformed = true, true
			continue
		}
		flags, method := le16(lh[6:]), le16(lh[8:])
		ln, lm := int(le16(lh[26:])), int(le16(lh[28:]))
		switch {
		case ln != len(e.name):
			e.localName = in.localName(ra, e.headerOff, ln)
			lay.malformed = true
		case string(lh[localLen:]) != e.name:
			e.localName = string(lh[localLen:])
			lay.malformed = true
		}
		if flags&zipFlagCrypt != e.flags&zipFlagCrypt || method != e.method {
			lay.malformed = true
		}
		if flags&zipFlagDesc == 0 && !localSizesAgree(lh, e) {
			lay.malformed = true
		}
		if e.csize > maxZipOffset {
			e.bad, lay.malformed = true, true
			continue
		}
		dataEnd := e.headerOff + int64(localLen+ln+lm) + int64(e.csize)
		if dataEnd < e.headerOff || dataEnd > lay.cdStart || dataEnd > size {
			// Runs into the central directory or past the end: truncated.
			e.bad, lay.malformed = true, true
		}
		spans = append(spans, span{e.headerOff, dataEnd})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	var end int64 = -1
	for _, s := range spans {
		if s.start < end {
			lay.overlap = true
			return
		}
		end = max(end, s.end)
	}
}

// localName reads a local header name of a different length than the
// directory's, so the name an extractor would use is checked too.
func (in *inspector) localName(ra io.ReaderAt, off int64, n int) string {
	b, err := readAtFull(ra, off+localLen, n)
	if err != nil {
		return ""
	}
	return string(b)
}

// localSizesAgree compares CRC and sizes when the local header carries them
// (no data descriptor); saturated values defer to the zip64 extra field.
func localSizesAgree(lh []byte, e *zipEntry) bool {
	crc, cs, us := le32(lh[14:]), le32(lh[18:]), le32(lh[22:])
	if crc != e.crc {
		return false
	}
	if cs != 0xffffffff && uint64(cs) != e.csize {
		return false
	}
	return us == 0xffffffff || uint64(us) == e.usize
}

// zip inspects a zip archive: structure first, then the kind (OOXML, jar,
// apk) from member names, then each member's content through archive/zip,
// bounded by the limits.
func (in *inspector) zip(rep *Report, ra io.ReaderAt, size int64, depth int) {
	lay, err := in.zipLayout(ra, size)
	if lay == nil {
		in.classify(rep, fmt.Errorf("while reading zip structure: %w", err))
		return
	}
	if err != nil {
		in.classify(rep, err)
	}
	rep.Malformed = rep.Malformed || lay.malformed
	if lay.overlap || lay.tooMany {
		in.bomb(rep)
	}
	names := make([]string, len(lay.entries))
	for i, e := range lay.entries {
		names[i] = e.name
	}
	kind := zipKind(names)
	rep.Type = kind
	doc := newOOXML(kind)
	for _, n := range names {
		doc.nameSignals(rep, n)
	}
	files := in.zipFiles(rep, ra, size, lay)
	pkg := kind != TypeZip
	for i := range lay.entries {
		e := &lay.entries[i]
		if strings.HasSuffix(e.name, "/") && e.usize == 0 {
			continue // directory
		}
		var f *zip.File
		if files != nil {
			f = files[i]
		}
		c := in.zipMember(rep, doc, e, f, depth+1)
		if !pkg || c.notable(pkg) || doc.isEmbedding(e.name) {
			rep.Entries = append(rep.Entries, c)
		}
		rep.absorb(&c)
	}
	rep.Type = doc.refine(kind)
	if in.exhausted {
		rep.Partial = true
	}
}

// zipFiles opens the archive with archive/zip for decompression, but only
// when our own walk found it sound, and reading no more of the directory than
// our walk did: archive/zip allocates per record before we could stop it.
// Its view must agree with ours entry by entry, or we decompress nothing.
func (in *inspector) zipFiles(rep *Report, ra io.ReaderAt, size int64, lay *zipLayout) []*zip.File {
	if in.stop || lay.tooMany || lay.overlap || len(lay.entries) == 0 {
		return nil
	}
	cr := &capReaderAt{r: ra, left: lay.cdLen + zipIndexSlack}
	zr, err := zip.NewReader(cr, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		in.classify(rep, fmt.Errorf("while opening zip directory: %w", err))
		return nil
	}
	cr.lift()
	if len(zr.File) != len(lay.entries) {
		rep.Malformed = true
		return nil
	}
	for i, f := range zr.File {
		if f.Name != lay.entries[i].name {
			rep.Malformed = true
			return nil
		}
	}
	return zr.File
}

// zipMember inspects one member. Without content (encrypted, skipped, or
// unreadable) it still gets the name checks and executable-by-extension.
func (in *inspector) zipMember(parent *Report, doc *ooxml, e *zipEntry, f *zip.File, depth int) Report {
	nameOnly := func() Report {
		c := InspectMeta(Meta{Name: e.name})
		if e.localName != "" {
			l := InspectMeta(Meta{Name: e.localName})
			c.RTLO, c.DoubleExtension = c.RTLO || l.RTLO, c.DoubleExtension || l.DoubleExtension
			c.Executable = c.Executable || l.Executable
		}
		return c
	}
	switch {
	case e.flags&zipFlagCrypt != 0 || e.method == zipMethodAES:
		c := nameOnly()
		c.Encrypted = true
		return c
	case f == nil || e.bad || in.stop:
		c := nameOnly()
		c.Partial = true
		return c
	case e.usize > ratioGrace && e.usize/uint64(in.lim.MaxRatio) > e.csize,
		e.usize > uint64(in.lim.MaxTotalBytes-in.total):
		// Declared sizes already exceed the limits; archive/zip fails any
		// member that inflates past its declared size, so honest-looking
		// headers cannot hide a bigger one.
		c := nameOnly()
		in.bomb(&c)
		return c
	}
	rc, err := f.Open()
	if err != nil {
		c := nameOnly()
		if errors.Is(err, zip.ErrAlgorithm) {
			c.Partial = true // bzip2, LZMA, zstd...: valid but not ours to read
		} else {
			in.classify(&c, fmt.Errorf("while opening member %q: %w", e.name, err))
		}
		return c
	}
	defer rc.Close()
	keep := doc.keep(e.name)
	c, kept, complete := in.member(e.name, in.limit(rc, int64(e.csize)), depth, memberOpts{keep: keep, size: int64(min(e.usize, maxSizeHint))})
	if e.localName != "" {
		l := nameReport(e.localName)
		c.RTLO, c.DoubleExtension = c.RTLO || l.RTLO, c.DoubleExtension || l.DoubleExtension
		c.Executable = c.Executable || execExts[ext(e.localName)]
	}
	if keep > 0 && kept != nil {
		if !complete {
			parent.Partial = true
		}
		doc.scan(parent, e.name, kept)
	}
	return c
}
