package spool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const segmentSuffix = ".seg"

// segmentName gives segments fixed-width names so that a directory listing
// sorts them oldest first.
func segmentName(id uint64) string {
	return fmt.Sprintf("%020d%s", id, segmentSuffix)
}

// parseSegmentName returns the id of a segment file name; ok is false for any
// other file (the cursor, dead letters, stray files).
func parseSegmentName(name string) (id uint64, ok bool) {
	base, found := strings.CutSuffix(name, segmentSuffix)
	if !found || len(base) != 20 {
		return 0, false
	}
	id, err := strconv.ParseUint(base, 10, 64)
	if err != nil {
		return 0, false
	}
	return id, true
}

// listSegments returns the ids of the segment files in dir, oldest first.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("while listing spool directory: %w", err)
	}
	var ids []uint64
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if id, ok := parseSegmentName(e.Name()); ok {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// scanResult describes the intact prefix of a segment.
type scanResult struct {
	// committedEnd is the offset just past the last frame that ends a batch,
	// with every frame before it intact: the segment's durable content.
	committedEnd int64
	// recordsAfter counts committed frames that start at or after the offset
	// passed to scanSegment.
	recordsAfter int64
	// fileSize is the size found on disk, so the caller can tell how much a
	// truncation to committedEnd drops.
	fileSize int64
	// damage says why scanning stopped before fileSize; nil when it did not.
	damage error
}

// scanSegment reads a segment from its start, verifying every frame, and finds
// the end of its last complete batch. countFrom is an offset from which
// committed frames are counted (the acknowledged cursor).
func scanSegment(path string, countFrom int64) (scanResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return scanResult{}, fmt.Errorf("while opening segment %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return scanResult{}, fmt.Errorf("while inspecting segment %s: %w", filepath.Base(path), err)
	}
	res := scanResult{fileSize: st.Size()}
	r := bufio.NewReaderSize(f, 256<<10)
	var (
		offset       int64
		uncommitted  int64 // frames read since the last end-of-batch frame
		hdr          [frameHeaderSize]byte
		payload      []byte
		pendingCount int64
	)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				res.damage = errShortFrame
				break
			}
			return scanResult{}, fmt.Errorf("while reading segment %s: %w", filepath.Base(path), err)
		}
		n, crc, flags, err := parseFrameHeader(hdr[:])
		if err != nil {
			res.damage = err
			break
		}
		if cap(payload) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				res.damage = errShortFrame
				break
			}
			return scanResult{}, fmt.Errorf("while reading segment %s: %w", filepath.Base(path), err)
		}
		if err := checkFrame(crc, flags, payload); err != nil {
			res.damage = err
			break
		}
		if offset >= countFrom {
			pendingCount++
		}
		offset += int64(frameHeaderSize + n)
		uncommitted++
		if flags&flagEndOfBatch != 0 {
			res.committedEnd = offset
			res.recordsAfter += pendingCount
			pendingCount = 0
			uncommitted = 0
		}
	}
	if uncommitted > 0 && res.damage == nil {
		res.damage = errors.New("last batch has no end-of-batch frame")
	}
	return res, nil
}

// countFrames counts the frames between two offsets of one segment and checks
// that to lands exactly on a frame boundary.
func countFrames(path string, from, to int64) (int64, error) {
	if to == from {
		return 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("while opening segment %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return 0, fmt.Errorf("while seeking in segment %s: %w", filepath.Base(path), err)
	}
	r := bufio.NewReaderSize(f, 64<<10)
	var (
		hdr   [frameHeaderSize]byte
		count int64
		off   = from
	)
	for off < to {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return 0, fmt.Errorf("while reading frame header at %d in segment %s: %w", off, filepath.Base(path), err)
		}
		n, _, _, err := parseFrameHeader(hdr[:])
		if err != nil {
			return 0, fmt.Errorf("at offset %d in segment %s: %w", off, filepath.Base(path), err)
		}
		if _, err := r.Discard(n); err != nil {
			return 0, fmt.Errorf("while skipping frame at %d in segment %s: %w", off, filepath.Base(path), err)
		}
		off += int64(frameHeaderSize + n)
		count++
	}
	if off != to {
		return 0, fmt.Errorf("%w: offset %d is not a frame boundary in segment %s", ErrBadPosition, to, filepath.Base(path))
	}
	return count, nil
}
