package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// A frame is one spooled envelope on disk:
//
//	[4 bytes payload length, big endian]
//	[4 bytes CRC-32C over the flags byte and the payload]
//	[1 byte flags]
//	[payload: the envelope as JSON]
//
// The flags byte marks the last frame of each Append call, so that recovery can
// drop a batch that was only partly written when the process died: a batch is in
// the spool whole or not at all.
const (
	frameHeaderSize = 9
	// maxFramePayload bounds what a length field may claim. A record is at most
	// capture.MaxEncodedRecord bytes; findings add a little. Anything larger is
	// corruption, and refusing it keeps recovery from allocating gigabytes.
	maxFramePayload = 4 << 20

	flagEndOfBatch byte = 1 << 0
	knownFlags          = flagEndOfBatch
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errShortFrame means the bytes end inside a frame: a torn write at the tail.
var errShortFrame = errors.New("frame is cut short")

// errCorruptFrame means a frame's header or checksum is wrong.
var errCorruptFrame = errors.New("frame is corrupt")

// appendFrame appends payload framed with flags to dst.
func appendFrame(dst []byte, flags byte, payload []byte) []byte {
	var hdr [frameHeaderSize]byte
	binary.BigEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	crc := crc32.Update(0, castagnoli, []byte{flags})
	crc = crc32.Update(crc, castagnoli, payload)
	binary.BigEndian.PutUint32(hdr[4:8], crc)
	hdr[8] = flags
	dst = append(dst, hdr[:]...)
	return append(dst, payload...)
}

// parseFrameHeader reads a header and says how long the payload is.
func parseFrameHeader(hdr []byte) (payloadLen int, crc uint32, flags byte, err error) {
	if len(hdr) < frameHeaderSize {
		return 0, 0, 0, errShortFrame
	}
	n := binary.BigEndian.Uint32(hdr[0:4])
	crc = binary.BigEndian.Uint32(hdr[4:8])
	flags = hdr[8]
	// A zero length never occurs (an envelope encodes to at least "{}"), and
	// zero-filled tails are what some file systems leave after a crash.
	if n == 0 || n > maxFramePayload {
		return 0, 0, 0, fmt.Errorf("%w: payload length %d", errCorruptFrame, n)
	}
	if flags&^knownFlags != 0 {
		return 0, 0, 0, fmt.Errorf("%w: unknown flags %#x", errCorruptFrame, flags)
	}
	return int(n), crc, flags, nil
}

// checkFrame verifies a payload against the checksum from its header.
func checkFrame(crc uint32, flags byte, payload []byte) error {
	got := crc32.Update(0, castagnoli, []byte{flags})
	got = crc32.Update(got, castagnoli, payload)
	if got != crc {
		return fmt.Errorf("%w: checksum mismatch", errCorruptFrame)
	}
	return nil
}

// decodeFrame decodes the frame at the start of b, returning its payload (a
// sub-slice of b), its flags and its encoded size.
func decodeFrame(b []byte) (payload []byte, flags byte, size int, err error) {
	n, crc, flags, err := parseFrameHeader(b)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(b)-frameHeaderSize < n {
		return nil, 0, 0, errShortFrame
	}
	payload = b[frameHeaderSize : frameHeaderSize+n]
	if err := checkFrame(crc, flags, payload); err != nil {
		return nil, 0, 0, err
	}
	return payload, flags, frameHeaderSize + n, nil
}
