package attach

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// 7z property IDs (7zFormat.txt) and the AES-256 + SHA-256 coder.
const (
	szEnd             = 0x00
	szHeader          = 0x01
	szArchiveProps    = 0x02
	szAdditional      = 0x03
	szMainStreams     = 0x04
	szPackInfo        = 0x06
	szUnpackInfo      = 0x07
	szSubStreams      = 0x08
	szSize            = 0x09
	szCRC             = 0x0A
	szFolder          = 0x0B
	szCodersUnpackSze = 0x0C
	szEncodedHeader   = 0x17
	szHeaderCap       = 1 << 20 // headers of real archives are far smaller
	szMaxCoders       = 64
)

var (
	szAES         = []byte{0x06, 0xF1, 0x07, 0x01}
	errSzFormat   = errors.New("not a valid 7z")
	errSzTooLarge = errors.New("7z header larger than we read")
)

// sevenZip reads the 7z start header and the header block it points to, and
// looks for the AES coder in the folders described there. An encoded
// (compressed) header describes only its own folder: if that folder is
// encrypted, the archive's names are (7z -mhe); if it is merely LZMA, file
// encryption stays hidden inside it, which this check cannot see without an
// LZMA decoder. Plain headers show every folder.
func (in *inspector) sevenZip(rep *Report, ra io.ReaderAt, size int64, whole bool) {
	if err := in.sevenZipHeader(rep, ra, size); err != nil {
		switch {
		case errors.Is(err, errSzTooLarge) || !whole:
			rep.Partial = true
		default:
			in.classify(rep, err)
		}
	}
}

func (in *inspector) sevenZipHeader(rep *Report, ra io.ReaderAt, size int64) error {
	h, err := readAtFull(ra, 0, 32)
	if err != nil {
		return fmt.Errorf("while reading 7z start header: %w", err)
	}
	if crc32.ChecksumIEEE(h[12:32]) != le32(h[8:]) {
		return fmt.Errorf("7z start header checksum: %w", errSzFormat)
	}
	off, n, crc := le64(h[12:]), le64(h[20:]), le32(h[28:])
	if n == 0 {
		return nil // empty archive
	}
	if off > uint64(size) || n > uint64(size) || 32+off+n > uint64(size) {
		return fmt.Errorf("7z header beyond the end of the file: %w", errSzFormat)
	}
	b, err := readAtFull(ra, int64(32+off), int(min(n, szHeaderCap)))
	if err != nil {
		return fmt.Errorf("while reading 7z header: %w", err)
	}
	if n <= szHeaderCap && crc32.ChecksumIEEE(b) != crc {
		return fmt.Errorf("7z header checksum: %w", errSzFormat)
	}
	p := &szParser{b: b}
	aes := p.header()
	rep.Encrypted = rep.Encrypted || aes
	switch {
	case p.err != nil && n > szHeaderCap:
		return errSzTooLarge
	case p.err != nil:
		return fmt.Errorf("while parsing 7z header: %w", p.err)
	}
	return nil
}

// szParser reads 7z header fields; the first error sticks and every read
// after it returns zero, so loops over attacker-chosen counts end as soon as
// the bytes do.
type szParser struct {
	b   []byte
	err error
}

func (p *szParser) fail() {
	if p.err == nil {
		p.err = errSzFormat
	}
	p.b = nil
}

func (p *szParser) byte() byte {
	if len(p.b) == 0 {
		p.fail()
		return 0
	}
	c := p.b[0]
	p.b = p.b[1:]
	return c
}

func (p *szParser) skip(n uint64) {
	if n > uint64(len(p.b)) {
		p.fail()
		return
	}
	p.b = p.b[n:]
}

// number decodes 7z's NUMBER: the count of leading one bits in the first
// byte says how many little-endian bytes follow; the rest of the first byte
// supplies the high bits.
func (p *szParser) number() uint64 {
	first := p.byte()
	var v uint64
	mask := byte(0x80)
	for i := 0; i < 8; i++ {
		if first&mask == 0 {
			high := uint64(first & (mask - 1))
			return v | high<<(8*i)
		}
		v |= uint64(p.byte()) << (8 * i)
		mask >>= 1
	}
	return v
}

// header parses a Header or an EncodedHeader far enough to see the coders.
func (p *szParser) header() bool {
	switch p.byte() {
	case szEncodedHeader:
		return p.streamsInfo()
	case szHeader:
	default:
		p.fail()
		return false
	}
	id := p.number()
	if id == szArchiveProps {
		for p.err == nil {
			if p.number() == szEnd {
				break
			}
			p.skip(p.number())
		}
		id = p.number()
	}
	aes := false
	if id == szAdditional {
		aes = p.streamsInfo()
		id = p.number()
	}
	if id == szMainStreams {
		aes = p.streamsInfo() || aes
	}
	return aes
}

// streamsInfo walks PackInfo and UnpackInfo; SubStreamsInfo says nothing
// about coders, so parsing stops there.
func (p *szParser) streamsInfo() bool {
	aes := false
	for p.err == nil {
		switch p.number() {
		case szEnd, szSubStreams:
			return aes
		case szPackInfo:
			p.packInfo()
		case szUnpackInfo:
			aes = p.unpackInfo() || aes
		default:
			p.fail()
		}
	}
	return aes
}

func (p *szParser) packInfo() {
	p.number() // pack position
	n := p.number()
	for p.err == nil {
		switch p.number() {
		case szEnd:
			return
		case szSize:
			for i := uint64(0); i < n && p.err == nil; i++ {
				p.number()
			}
		case szCRC:
			p.digests(n)
		default:
			p.fail()
		}
	}
}

func (p *szParser) digests(n uint64) {
	defined := n
	if p.byte() == 0 {
		bits := p.b
		p.skip((n + 7) / 8)
		if p.err != nil {
			return
		}
		defined = 0
		for i := uint64(0); i < n; i++ {
			if bits[i/8]&(0x80>>(i%8)) != 0 {
				defined++
			}
		}
	}
	if defined > uint64(len(p.b))/4 {
		p.fail()
		return
	}
	p.skip(4 * defined)
}

func (p *szParser) unpackInfo() bool {
	if p.number() != szFolder {
		p.fail()
		return false
	}
	folders := p.number()
	if p.byte() != 0 { // external: folders stored elsewhere
		p.fail()
		return false
	}
	aes := false
	var outs uint64
	for i := uint64(0); i < folders && p.err == nil; i++ {
		o, a := p.folder()
		outs += o
		aes = aes || a
	}
	if p.number() != szCodersUnpackSze {
		p.fail()
		return aes
	}
	for i := uint64(0); i < outs && p.err == nil; i++ {
		p.number()
	}
	for p.err == nil {
		switch p.number() {
		case szEnd:
			return aes
		case szCRC:
			p.digests(folders)
		default:
			p.fail()
		}
	}
	return aes
}

// folder reads one folder's coders, bind pairs and packed streams and
// returns its number of output streams and whether a coder is AES.
func (p *szParser) folder() (uint64, bool) {
	coders := p.number()
	if coders == 0 || coders > szMaxCoders {
		p.fail()
		return 0, false
	}
	var ins, outs uint64
	aes := false
	for c := uint64(0); c < coders && p.err == nil; c++ {
		flag := p.byte()
		if flag&0x80 != 0 { // alternative methods: never written by 7-Zip
			p.fail()
			break
		}
		idLen := uint64(flag & 0x0F)
		id := p.b
		p.skip(idLen)
		if p.err == nil && idLen == uint64(len(szAES)) && string(id[:idLen]) == string(szAES) {
			aes = true
		}
		if flag&0x10 != 0 {
			ins += p.number()
			outs += p.number()
		} else {
			ins++
			outs++
		}
		if flag&0x20 != 0 {
			p.skip(p.number())
		}
	}
	if outs == 0 || outs > szMaxCoders*4 || ins > szMaxCoders*4 {
		p.fail()
		return 0, aes
	}
	pairs := outs - 1
	for i := uint64(0); i < pairs && p.err == nil; i++ {
		p.number()
		p.number()
	}
	if ins < pairs {
		p.fail()
		return 0, aes
	}
	if packed := ins - pairs; packed > 1 {
		for i := uint64(0); i < packed && p.err == nil; i++ {
			p.number()
		}
	}
	return outs, aes
}
