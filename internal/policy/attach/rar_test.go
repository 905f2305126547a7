package attach

import (
	"bytes"
	"testing"
)

func TestRar5(t *testing.T) {
	r := inspectBytes(t, "files.rar", rar5Archive(false, "docs/report.pdf", "docs/invoice.pdf.exe"), DefaultLimits())
	if r.Type != TypeRar || r.Encrypted || !r.Executable || !r.DoubleExtension || len(r.Entries) != 2 {
		t.Fatalf("rar5 names: %s %v %+v", r.Type, r.Flags(), r.Entries)
	}
	if r.Entries[0].Type != "" {
		t.Errorf("rar members are not decompressed: %+v", r.Entries[0])
	}
	r = inspectBytes(t, "files.rar", rar5Archive(true, "a.txt"), DefaultLimits())
	if !r.Encrypted || r.Malformed {
		t.Errorf("rar5 encrypted file: %v", r.Flags())
	}
	r = inspectBytes(t, "files.rar", rar5EncryptedHeaders(), DefaultLimits())
	if !r.Encrypted || r.Malformed || len(r.Entries) != 0 {
		t.Errorf("rar5 encrypted headers: %v", r.Flags())
	}
}

func TestRar4(t *testing.T) {
	r := inspectBytes(t, "a.rar", rar4Archive(0, 0, "photo.jpg.scr"), DefaultLimits())
	if !r.DoubleExtension || !r.Executable || r.Encrypted || r.Malformed {
		t.Errorf("rar4 file: %v", r.Flags())
	}
	if r := inspectBytes(t, "a.rar", rar4Archive(0, rar4FilePass, "a.txt"), DefaultLimits()); !r.Encrypted {
		t.Errorf("rar4 encrypted file: %v", r.Flags())
	}
	if r := inspectBytes(t, "a.rar", rar4Archive(rar4HeadersPass, 0, "a.txt"), DefaultLimits()); !r.Encrypted || len(r.Entries) != 0 {
		t.Errorf("rar4 encrypted headers: %v", r.Flags())
	}
}

func TestRarMalformed(t *testing.T) {
	b := rar5Archive(false, "a.txt")
	bad := bytes.Clone(b)
	bad[len(sigRar5)+6] ^= 0xFF // inside the main header: CRC fails
	if r := inspectBytes(t, "a.rar", bad, DefaultLimits()); !r.Malformed {
		t.Errorf("rar5 bad CRC: %v", r.Flags())
	}
	b4 := rar4Archive(0, 0, "a.txt")
	bad = bytes.Clone(b4)
	bad[len(sigRar4)+10] ^= 0xFF
	if r := inspectBytes(t, "a.rar", bad, DefaultLimits()); !r.Malformed {
		t.Errorf("rar4 bad CRC: %v", r.Flags())
	}
	for n := len(sigRar4); n < len(b); n++ {
		inspectBytes(t, "a.rar", b[:n], DefaultLimits()) // no panics on truncation
	}
}

func TestVint(t *testing.T) {
	for _, tc := range []struct {
		b []byte
		v uint64
		n int
	}{
		{[]byte{0x05}, 5, 1},
		{[]byte{0x80, 0x01}, 128, 2},
		{[]byte{0xFF, 0x7F}, 16383, 2},
		{[]byte{0x80}, 0, 0},
	} {
		if v, n := vint(tc.b); v != tc.v || n != tc.n {
			t.Errorf("vint(%x) = %d, %d; want %d, %d", tc.b, v, n, tc.v, tc.n)
		}
	}
}

func TestRarBlockLimit(t *testing.T) {
	// Many service blocks and no files: the walk stops at its block budget.
	b := append([]byte(nil), sigRar5...)
	for i := 0; i < 200; i++ {
		b = append(b, rar5Block([]byte{3, 0, 0})...)
	}
	r := inspectBytes(t, "a.rar", b, Limits{MaxEntries: 10})
	if !r.Partial || r.Malformed {
		t.Errorf("200 service blocks, budget 56: %v", r.Flags())
	}
}
