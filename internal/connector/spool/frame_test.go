package spool

import (
	"bytes"
	"errors"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		flags   byte
		payload []byte
	}{
		{"small", 0, []byte(`{}`)},
		{"end of batch", flagEndOfBatch, []byte(`{"record":{"text":"佢哋唔係"}}`)},
		{"binary", 0, []byte{0, 1, 2, 255}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := appendFrame(nil, tc.flags, tc.payload)
			payload, flags, size, err := decodeFrame(b)
			if err != nil {
				t.Fatalf("decodeFrame: %v", err)
			}
			if !bytes.Equal(payload, tc.payload) || flags != tc.flags || size != len(b) {
				t.Fatalf("got payload %q flags %d size %d; want %q %d %d", payload, flags, size, tc.payload, tc.flags, len(b))
			}
		})
	}
}

func TestFrameDamage(t *testing.T) {
	good := appendFrame(nil, flagEndOfBatch, []byte(`{"record":null}`))
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x40
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errShortFrame},
		{"header only", good[:frameHeaderSize], errShortFrame},
		{"torn payload", good[:len(good)-1], errShortFrame},
		{"zero filled", make([]byte, 32), errCorruptFrame},
		{"payload bit flip", flip(frameHeaderSize + 2), errCorruptFrame},
		{"crc bit flip", flip(5), errCorruptFrame},
		{"unknown flag", flip(8), errCorruptFrame},
		{"huge length", append([]byte{0x7f, 0, 0, 0}, good[4:]...), errCorruptFrame},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := decodeFrame(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("decodeFrame error = %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzDecodeFrame feeds arbitrary bytes (what a damaged disk can hold) to the
// frame decoder: it must never panic, never claim more bytes than it was
// given, and whatever it accepts must re-encode to the same bytes.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(appendFrame(nil, flagEndOfBatch, []byte(`{"record":{}}`)))
	f.Add(appendFrame(nil, 0, []byte(`x`)))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 'x'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		payload, flags, size, err := decodeFrame(b)
		if err != nil {
			if !errors.Is(err, errShortFrame) && !errors.Is(err, errCorruptFrame) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if size > len(b) || size != frameHeaderSize+len(payload) {
			t.Fatalf("size %d inconsistent with input %d and payload %d", size, len(b), len(payload))
		}
		if again := appendFrame(nil, flags, payload); !bytes.Equal(again, b[:size]) {
			t.Fatalf("re-encoding differs")
		}
	})
}
