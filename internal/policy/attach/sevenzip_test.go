package attach

import (
	"bytes"
	"testing"
)

func TestSevenZip(t *testing.T) {
	aes := szAES
	for _, tc := range []struct {
		name      string
		hdr       []byte
		encrypted bool
	}{
		{"encoded header, AES (7z -mhe=on)", append([]byte{szEncodedHeader}, szStreams(szLZMA, aes)...), true},
		{"encoded header, LZMA only", append([]byte{szEncodedHeader}, szStreams(szLZMA)...), false},
		{"plain header, AES files", append(append([]byte{szHeader, szMainStreams}, szStreams(szCopy, aes)...), szEnd), true},
		{"plain header, stored files", append(append([]byte{szHeader, szMainStreams}, szStreams(szCopy)...), szEnd), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := inspectBytes(t, "a.7z", sevenZipFile(tc.hdr), DefaultLimits())
			if r.Type != Type7z || r.Encrypted != tc.encrypted || r.Malformed {
				t.Errorf("%s %v", r.Type, r.Flags())
			}
		})
	}
}

func TestSevenZipMalformed(t *testing.T) {
	good := sevenZipFile(append([]byte{szEncodedHeader}, szStreams(szLZMA)...))
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 0xFF
	if r := inspectBytes(t, "a.7z", bad, DefaultLimits()); !r.Malformed {
		t.Errorf("header CRC: %v", r.Flags())
	}
	bad = bytes.Clone(good)
	bad[13] = 0x40 // next header offset beyond the file; start CRC fails first
	if r := inspectBytes(t, "a.7z", bad, DefaultLimits()); !r.Malformed {
		t.Errorf("start header: %v", r.Flags())
	}
	junk := sevenZipFile([]byte{0x42, 0x42})
	if r := inspectBytes(t, "a.7z", junk, DefaultLimits()); !r.Malformed {
		t.Errorf("unknown header kind: %v", r.Flags())
	}
	for n := 0; n < len(good); n++ {
		inspectBytes(t, "a.7z", good[:n], DefaultLimits())
	}
}

func TestSevenZipNumber(t *testing.T) {
	for _, tc := range []struct {
		b []byte
		v uint64
	}{
		{[]byte{0x7F}, 0x7F},
		{[]byte{0x80, 0xFF}, 0xFF},
		{[]byte{0xBF, 0xFF}, 0x3FFF},
		{[]byte{0xC1, 0x00, 0x40}, 0x14000},
		{[]byte{0xFF, 1, 2, 3, 4, 5, 6, 7, 8}, 0x0807060504030201},
	} {
		p := &szParser{b: tc.b}
		if v := p.number(); v != tc.v || p.err != nil || len(p.b) != 0 {
			t.Errorf("number(%x) = %#x (err %v, left %d), want %#x", tc.b, v, p.err, len(p.b), tc.v)
		}
	}
	p := &szParser{b: []byte{0xC0, 1}}
	p.number()
	if p.err == nil {
		t.Error("truncated number accepted")
	}
}
