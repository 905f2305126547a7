package attach

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

// RAR block types and flags (RAR 4: technote; RAR 5: rarlab.com/technote.htm).
const (
	rar4Main        = 0x73
	rar4File        = 0x74
	rar4End         = 0x7B
	rar4HeadersPass = 0x0080 // main header: block headers are encrypted
	rar4FilePass    = 0x0004 // file header: data is encrypted
	rar4Large       = 0x0100 // file header: 64-bit sizes follow
	rar4Unicode     = 0x0200 // file header: name holds an encoded Unicode part
	rar4DirMask     = 0x00E0 // dictionary bits all set: a directory
	rar4LongBlock   = 0x8000 // an ADD_SIZE field follows the header

	rar5File       = 2
	rar5Crypt      = 4 // archive encryption header: everything after is ciphertext
	rar5End        = 5
	rar5HasExtra   = 0x0001
	rar5HasData    = 0x0002
	rar5IsDir      = 0x0001
	rar5HasMtime   = 0x0002
	rar5HasCRC     = 0x0004
	rar5ExtraCrypt = 0x01
	rar5MaxHeader  = 2 << 20 // the format's own bound on a header
)

var errRarFormat = errors.New("not a valid rar")

// rarBlocksPerEntry bounds non-file blocks (service headers, comments,
// recovery records) relative to the entry budget, so that a file of tiny
// blocks cannot spin the walk.
const rarBlocksPerEntry = 4

// rarBlock counts blocks walked and reports whether another is allowed.
func (in *inspector) rarBlock(rep *Report, n *int) bool {
	*n++
	if *n > rarBlocksPerEntry*in.lim.MaxEntries+16 {
		rep.Partial = true
		return false
	}
	return true
}

// rar walks RAR block headers: no decompression, only what the headers say.
// Encrypted headers end the walk with Encrypted set; otherwise each file
// becomes a name-only entry (name tricks, executable by extension) marked
// Encrypted when its data is. Member contents are not inspected.
func (in *inspector) rar(rep *Report, ra io.ReaderAt, size int64, whole bool) {
	sig, err := readAtFull(ra, 0, len(sigRar5))
	var walkErr error
	switch {
	case err == nil && bytes.Equal(sig, sigRar5):
		walkErr = in.rar5(rep, ra, size)
	default:
		walkErr = in.rar4(rep, ra, size)
	}
	if walkErr != nil {
		if whole {
			in.classify(rep, walkErr)
		} else {
			rep.Partial = true
		}
	}
}

// rarEntry records one file found in the headers.
func (in *inspector) rarEntry(rep *Report, name string, encrypted bool) bool {
	if !in.takeEntry(rep) {
		return false
	}
	c := InspectMeta(Meta{Name: strings.ToValidUTF8(name, "\uFFFD")})
	c.Encrypted = encrypted
	rep.Entries = append(rep.Entries, c)
	rep.absorb(&c)
	return true
}

func (in *inspector) rar4(rep *Report, ra io.ReaderAt, size int64) error {
	pos := int64(len(sigRar4))
	blocks := 0
	for pos < size && in.rarBlock(rep, &blocks) {
		if in.stop {
			rep.Partial = true
			return nil
		}
		b, err := readAtFull(ra, pos, 7)
		if err != nil {
			return fmt.Errorf("while reading rar block at %d: %w", pos, err)
		}
		crc, typ, flags, hsize := le16(b), b[2], le16(b[3:]), int64(le16(b[5:]))
		if hsize < 7 {
			return fmt.Errorf("rar block header size %d: %w", hsize, errRarFormat)
		}
		h, err := readAtFull(ra, pos, int(hsize))
		if err != nil {
			return fmt.Errorf("while reading rar block at %d: %w", pos, err)
		}
		if (typ == rar4Main || typ == rar4File) && uint16(crc32.ChecksumIEEE(h[2:])) != crc {
			return fmt.Errorf("rar header checksum at %d: %w", pos, errRarFormat)
		}
		var add int64
		if flags&rar4LongBlock != 0 && hsize >= 11 {
			add = int64(le32(h[7:]))
		}
		switch typ {
		case rar4Main:
			if flags&rar4HeadersPass != 0 {
				rep.Encrypted = true
				return nil
			}
		case rar4File:
			name, packed, ok := rar4FileHeader(h, flags)
			if !ok {
				return fmt.Errorf("rar file header at %d: %w", pos, errRarFormat)
			}
			add = packed
			if flags&rar4DirMask != rar4DirMask && !in.rarEntry(rep, name, flags&rar4FilePass != 0) {
				return nil
			}
		case rar4End:
			return nil
		}
		next := pos + hsize + add
		if next <= pos {
			return fmt.Errorf("rar block size overflow at %d: %w", pos, errRarFormat)
		}
		pos = next
	}
	return nil
}

// rar4FileHeader returns the name and packed size from a RAR 4 file header.
func rar4FileHeader(h []byte, flags uint16) (string, int64, bool) {
	if len(h) < 32 {
		return "", 0, false
	}
	packed := int64(le32(h[7:]))
	nameLen := int(le16(h[26:]))
	off := 32
	if flags&rar4Large != 0 {
		if len(h) < 40 {
			return "", 0, false
		}
		packed |= int64(le32(h[32:])) << 32
		off = 40
	}
	if off+nameLen > len(h) || packed < 0 {
		return "", 0, false
	}
	name := h[off : off+nameLen]
	if flags&rar4Unicode != 0 {
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i] // the ANSI part; the encoded Unicode part follows
		}
	}
	return string(name), packed, true
}

// vint decodes a RAR 5 variable-length integer.
func vint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7F) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// vreader reads successive RAR 5 fields from a header.
type vreader struct {
	b   []byte
	bad bool
}

func (r *vreader) v() uint64 {
	v, n := vint(r.b)
	if n == 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *vreader) skip(n uint64) {
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return
	}
	r.b = r.b[n:]
}

func (in *inspector) rar5(rep *Report, ra io.ReaderAt, size int64) error {
	pos := int64(len(sigRar5))
	blocks := 0
	for pos < size && in.rarBlock(rep, &blocks) {
		if in.stop {
			rep.Partial = true
			return nil
		}
		b, err := readAtFull(ra, pos, int(min(7, size-pos)))
		if err != nil || len(b) < 5 {
			return fmt.Errorf("while reading rar block at %d: %w", pos, cmpErr(err, errRarFormat))
		}
		hsize, k := vint(b[4:])
		if k == 0 || hsize == 0 || hsize > rar5MaxHeader {
			return fmt.Errorf("rar header size at %d: %w", pos, errRarFormat)
		}
		h, err := readAtFull(ra, pos+4, k+int(hsize))
		if err != nil {
			return fmt.Errorf("while reading rar header at %d: %w", pos, err)
		}
		if crc32.ChecksumIEEE(h) != le32(b) {
			return fmt.Errorf("rar header checksum at %d: %w", pos, errRarFormat)
		}
		r := &vreader{b: h[k:]}
		typ, flags := r.v(), r.v()
		var extra, data uint64
		if flags&rar5HasExtra != 0 {
			extra = r.v()
		}
		if flags&rar5HasData != 0 {
			data = r.v()
		}
		if r.bad || extra > uint64(len(r.b)) {
			return fmt.Errorf("rar header fields at %d: %w", pos, errRarFormat)
		}
		switch typ {
		case rar5Crypt:
			rep.Encrypted = true
			return nil
		case rar5File:
			name, dir, encrypted, ok := rar5FileHeader(r, extra)
			if !ok {
				return fmt.Errorf("rar file header at %d: %w", pos, errRarFormat)
			}
			if !dir && !in.rarEntry(rep, name, encrypted) {
				return nil
			}
		case rar5End:
			return nil
		}
		if data > uint64(size) {
			return fmt.Errorf("rar data size at %d: %w", pos, errRarFormat)
		}
		pos += 4 + int64(k) + int64(hsize) + int64(data)
	}
	return nil
}

// rar5FileHeader reads a RAR 5 file header body and its extra area.
func rar5FileHeader(r *vreader, extra uint64) (name string, dir, encrypted, ok bool) {
	area := r.b[uint64(len(r.b))-extra:]
	r.b = r.b[:uint64(len(r.b))-extra]
	fflags := r.v()
	r.v() // unpacked size
	r.v() // attributes
	if fflags&rar5HasMtime != 0 {
		r.skip(4)
	}
	if fflags&rar5HasCRC != 0 {
		r.skip(4)
	}
	r.v() // compression information
	r.v() // host OS
	n := r.v()
	if r.bad || n > uint64(len(r.b)) {
		return "", false, false, false
	}
	name = string(r.b[:n])
	x := &vreader{b: area}
	for len(x.b) > 0 && !x.bad {
		sz := x.v()
		if x.bad || sz > uint64(len(x.b)) {
			break
		}
		rec := &vreader{b: x.b[:sz]}
		if rec.v() == rar5ExtraCrypt && !rec.bad {
			encrypted = true
		}
		x.skip(sz)
	}
	return name, fflags&rar5IsDir != 0, encrypted, true
}

// cmpErr returns err, or fallback when err is nil.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
