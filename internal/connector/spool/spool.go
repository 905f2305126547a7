// Package spool is the connector's durable on-disk FIFO of capture envelopes.
//
// A webhook is acknowledged to the channel only after its records are in the
// spool, and spool entries are dropped only after the archive has acknowledged
// them, so the spool is what makes "kill -9 at any moment loses nothing" true.
// Envelopes are appended to segment files as length-prefixed, CRC-32C-checked
// frames; a cursor file records how far the archive has acknowledged; fully
// acknowledged segments are deleted.
package spool

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/capture"
)

// ErrSpoolFull is returned by Append when the batch would take the spool over
// its size bound. Channels turn it into "try again later" (HTTP 503) so that
// input is refused rather than lost.
var ErrSpoolFull = errors.New("spool is full")

// ErrBadPosition is returned by Ack for a position that the spool never handed
// out: before the cursor, past the end, or not on a record boundary.
var ErrBadPosition = errors.New("position is not an unacknowledged record boundary")

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("spool is closed")

const (
	minSegmentBytes     = 64 << 10
	maxSegmentBytes     = 64 << 20
	defaultSegmentRatio = 8
)

// Options configure a spool.
type Options struct {
	// MaxBytes bounds the bytes of segment files on disk. Required.
	MaxBytes int64
	// SegmentBytes is the size at which a new segment is started. Zero picks
	// MaxBytes/8 within [64 KiB, 64 MiB], so acknowledged but not yet deleted
	// data can hold back at most about an eighth of the bound.
	SegmentBytes int64
	// Logger receives recovery reports. The zero value discards.
	Logger logr.Logger
}

// Position addresses a record boundary: the byte offset in a segment just past
// a record. Batches report the position after their last record; passing it to
// Ack acknowledges that record and every one before it.
type Position struct {
	Segment uint64
	Offset  int64
}

// Before reports whether p comes strictly before q in the spool.
func (p Position) Before(q Position) bool {
	if p.Segment != q.Segment {
		return p.Segment < q.Segment
	}
	return p.Offset < q.Offset
}

// String formats a position for logs and errors.
func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Segment, p.Offset) }

// Batch is the oldest unacknowledged run of envelopes.
type Batch struct {
	Envelopes []capture.Envelope
	// End is the position to pass to Ack once the batch is durable elsewhere.
	End Position
}

// Stats is a snapshot for metrics.
type Stats struct {
	PendingRecords int64
	DiskBytes      int64
	MaxBytes       int64
}

// Recovery says what Open had to repair.
type Recovery struct {
	// TruncatedBytes were dropped from segment tails: torn or corrupt frames,
	// or the frames of a batch whose Append never returned.
	TruncatedBytes int64
	// CursorReset is true when the cursor file was unreadable and shipping
	// restarts from the oldest segment (the archive deduplicates the re-sent
	// records).
	CursorReset bool
}

type segment struct {
	id   uint64
	size int64 // committed bytes
}

// Spool is safe for concurrent use.
type Spool struct {
	mu           sync.Mutex
	dir          string
	maxBytes     int64
	segmentBytes int64
	log          logr.Logger

	segments  []segment // oldest first; the last is open for appends
	active    *os.File
	cursor    Position
	pending   int64
	diskBytes int64
	recovery  Recovery
	// failed is set when a write or fsync failed in a way that leaves the
	// on-disk state unknown; the spool must be reopened (which re-runs recovery).
	failed error
	closed bool
}

// Open opens or creates the spool in dir, repairing a torn tail left by a crash.
func Open(dir string, opts Options) (*Spool, error) {
	if opts.MaxBytes <= 0 {
		return nil, fmt.Errorf("spool MaxBytes must be positive, got %d", opts.MaxBytes)
	}
	seg := opts.SegmentBytes
	if seg <= 0 {
		seg = min(max(opts.MaxBytes/defaultSegmentRatio, minSegmentBytes), maxSegmentBytes)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("while creating spool directory: %w", err)
	}
	s := &Spool{dir: dir, maxBytes: opts.MaxBytes, segmentBytes: seg, log: opts.Logger}
	if err := s.recover(); err != nil {
		if s.active != nil {
			s.active.Close()
		}
		return nil, err
	}
	return s, nil
}

func (s *Spool) path(id uint64) string { return filepath.Join(s.dir, segmentName(id)) }

// recover loads the cursor, drops segments the cursor has passed, truncates
// damaged tails and opens the newest segment for appending.
func (s *Spool) recover() error {
	ids, err := listSegments(s.dir)
	if err != nil {
		return err
	}
	cur, found, err := readCursor(s.dir)
	if err != nil {
		if !errors.Is(err, errBadCursor) {
			return err
		}
		s.log.Info("spool cursor unreadable; re-shipping from the oldest segment", "error", err.Error())
		found = false
		s.recovery.CursorReset = true
	}
	if !found {
		cur = Position{Segment: 1}
		if len(ids) > 0 {
			cur = Position{Segment: ids[0]}
		}
	}
	// A crash between writing the cursor and deleting the segments it passed
	// leaves those segments behind; they are fully acknowledged.
	kept := ids[:0]
	for _, id := range ids {
		if id < cur.Segment {
			if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("while removing acknowledged segment %d: %w", id, err)
			}
			continue
		}
		kept = append(kept, id)
	}
	ids = kept
	if len(ids) == 0 || ids[0] != cur.Segment {
		// The cursor names a segment that does not exist: a brand-new spool,
		// or the cursor was reset past everything. Start an empty segment there.
		if len(ids) > 0 {
			cur = Position{Segment: ids[0]}
		} else {
			if err := s.createSegment(cur.Segment); err != nil {
				return err
			}
			cur.Offset = 0
			ids = []uint64{cur.Segment}
		}
	}
	for _, id := range ids {
		countFrom := int64(0)
		if id == cur.Segment {
			countFrom = cur.Offset
		}
		res, err := scanSegment(s.path(id), countFrom)
		if err != nil {
			return err
		}
		if res.fileSize != res.committedEnd {
			if err := s.truncate(id, res.committedEnd); err != nil {
				return err
			}
			s.recovery.TruncatedBytes += res.fileSize - res.committedEnd
			reason := "unknown"
			if res.damage != nil {
				reason = res.damage.Error()
			}
			s.log.Info("spool segment tail truncated", "segment", id, "keptBytes", res.committedEnd,
				"droppedBytes", res.fileSize-res.committedEnd, "reason", reason)
		}
		if id == cur.Segment && cur.Offset > res.committedEnd {
			// The acknowledged data was cut away by the truncation: nothing
			// after it can be pending in this segment.
			s.log.Info("spool cursor beyond intact data; clamping", "cursor", cur.String(), "intactEnd", res.committedEnd)
			cur.Offset = res.committedEnd
		}
		s.segments = append(s.segments, segment{id: id, size: res.committedEnd})
		s.pending += res.recordsAfter
		s.diskBytes += res.committedEnd
	}
	s.cursor = cur
	last := s.segments[len(s.segments)-1]
	f, err := os.OpenFile(s.path(last.id), os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("while opening segment %d for appending: %w", last.id, err)
	}
	s.active = f
	return nil
}

func (s *Spool) truncate(id uint64, size int64) error {
	f, err := os.OpenFile(s.path(id), os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("while opening segment %d to truncate it: %w", id, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("while truncating segment %d: %w", id, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("while syncing truncated segment %d: %w", id, err)
	}
	return nil
}

// createSegment creates an empty segment file and makes its directory entry
// durable, so that an Append into it survives a crash.
func (s *Spool) createSegment(id uint64) error {
	f, err := os.OpenFile(s.path(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("while creating segment %d: %w", id, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("while closing new segment %d: %w", id, err)
	}
	return syncDir(s.dir)
}

// roll seals the active segment and starts the next one.
func (s *Spool) roll() error {
	next := s.segments[len(s.segments)-1].id + 1
	if err := s.createSegment(next); err != nil {
		return err
	}
	f, err := os.OpenFile(s.path(next), os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("while opening segment %d for appending: %w", next, err)
	}
	if err := s.active.Close(); err != nil {
		s.log.Info("closing sealed segment failed", "error", err.Error())
	}
	s.active = f
	s.segments = append(s.segments, segment{id: next})
	return nil
}

// Recovered reports what Open repaired.
func (s *Spool) Recovered() Recovery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovery
}

// Stats returns a snapshot of the spool's size.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{PendingRecords: s.pending, DiskBytes: s.diskBytes, MaxBytes: s.maxBytes}
}

func (s *Spool) usable() error {
	if s.closed {
		return ErrClosed
	}
	if s.failed != nil {
		return fmt.Errorf("spool unusable until reopened: %w", s.failed)
	}
	return nil
}

// Append adds envelopes as one batch. It returns only after the batch and, for
// a new segment, its directory entry are fsynced; the position returned is
// just past the batch's last record. A batch is durable whole or not at all.
func (s *Spool) Append(envs []capture.Envelope) (Position, error) {
	var buf []byte
	for i := range envs {
		payload, err := marshalEnvelope(&envs[i])
		if err != nil {
			return Position{}, fmt.Errorf("while encoding envelope %d: %w", i, err)
		}
		if len(payload) > maxFramePayload {
			return Position{}, fmt.Errorf("envelope %d encodes to %d bytes; the limit is %d", i, len(payload), maxFramePayload)
		}
		var flags byte
		if i == len(envs)-1 {
			flags = flagEndOfBatch
		}
		buf = appendFrame(buf, flags, payload)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return Position{}, err
	}
	if len(envs) == 0 {
		last := s.segments[len(s.segments)-1]
		return Position{Segment: last.id, Offset: last.size}, nil
	}
	if s.diskBytes+int64(len(buf)) > s.maxBytes {
		return Position{}, fmt.Errorf("%w: %d bytes used, batch needs %d, bound is %d", ErrSpoolFull, s.diskBytes, len(buf), s.maxBytes)
	}
	if last := s.segments[len(s.segments)-1]; last.size > 0 && last.size+int64(len(buf)) > s.segmentBytes {
		if err := s.roll(); err != nil {
			return Position{}, err
		}
	}
	last := &s.segments[len(s.segments)-1]
	if _, err := s.active.Write(buf); err != nil {
		// Cut off whatever part was written so the next batch does not follow
		// garbage; if even that fails the file's state is unknown.
		if terr := s.active.Truncate(last.size); terr != nil {
			s.failed = fmt.Errorf("write failed (%v) and truncating back failed: %w", err, terr)
		}
		return Position{}, fmt.Errorf("while writing %d envelopes to segment %d: %w", len(envs), last.id, err)
	}
	if err := s.active.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages, so
		// nothing about the file can be trusted until recovery re-reads it.
		s.failed = fmt.Errorf("fsync of segment %d failed: %w", last.id, err)
		return Position{}, fmt.Errorf("while syncing segment %d: %w", last.id, err)
	}
	last.size += int64(len(buf))
	s.diskBytes += int64(len(buf))
	s.pending += int64(len(envs))
	return Position{Segment: last.id, Offset: last.size}, nil
}

// Peek returns up to max of the oldest unacknowledged envelopes. It does not
// consume them: until Ack, every Peek returns the same records.
func (s *Spool) Peek(max int) (Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return Batch{}, err
	}
	b := Batch{End: s.cursor}
	if max <= 0 {
		return b, nil
	}
	for _, seg := range s.segments {
		if seg.id < s.cursor.Segment {
			continue
		}
		from := int64(0)
		if seg.id == s.cursor.Segment {
			from = s.cursor.Offset
		}
		if from >= seg.size {
			continue
		}
		end, err := s.readFrames(seg, from, max-len(b.Envelopes), &b.Envelopes)
		if err != nil {
			return Batch{}, err
		}
		b.End = Position{Segment: seg.id, Offset: end}
		if len(b.Envelopes) >= max {
			break
		}
	}
	return b, nil
}

// readFrames decodes up to limit envelopes of seg starting at from, and
// returns the offset after the last one read.
func (s *Spool) readFrames(seg segment, from int64, limit int, out *[]capture.Envelope) (int64, error) {
	f, err := os.Open(s.path(seg.id))
	if err != nil {
		return 0, fmt.Errorf("while opening segment %d for reading: %w", seg.id, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.NewSectionReader(f, from, seg.size-from), 256<<10)
	off := from
	var hdr [frameHeaderSize]byte
	for n := 0; n < limit && off < seg.size; n++ {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return 0, fmt.Errorf("while reading frame at %d of segment %d: %w", off, seg.id, err)
		}
		plen, crc, flags, err := parseFrameHeader(hdr[:])
		if err != nil {
			return 0, fmt.Errorf("at offset %d of segment %d: %w", off, seg.id, err)
		}
		payload := make([]byte, plen)
		if _, err := io.ReadFull(r, payload); err != nil {
			return 0, fmt.Errorf("while reading frame at %d of segment %d: %w", off, seg.id, err)
		}
		if err := checkFrame(crc, flags, payload); err != nil {
			return 0, fmt.Errorf("at offset %d of segment %d: %w", off, seg.id, err)
		}
		var env capture.Envelope
		if err := json.Unmarshal(payload, &env); err != nil {
			return 0, fmt.Errorf("while decoding envelope at %d of segment %d: %w", off, seg.id, err)
		}
		*out = append(*out, env)
		off += int64(frameHeaderSize + plen)
	}
	return off, nil
}

// Ack durably records that everything up to pos has reached the archive and
// deletes segments that are now fully acknowledged.
func (s *Spool) Ack(pos Position) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if pos.Before(s.cursor) {
		return fmt.Errorf("%w: %s is before the cursor %s", ErrBadPosition, pos, s.cursor)
	}
	if pos == s.cursor {
		return nil
	}
	// Count the records being acknowledged, checking pos is a real boundary.
	var acked int64
	found := false
	for _, seg := range s.segments {
		if seg.id < s.cursor.Segment || seg.id > pos.Segment {
			continue
		}
		from, to := int64(0), seg.size
		if seg.id == s.cursor.Segment {
			from = s.cursor.Offset
		}
		if seg.id == pos.Segment {
			if pos.Offset > seg.size {
				return fmt.Errorf("%w: %s is past the end of segment %d (%d bytes)", ErrBadPosition, pos, seg.id, seg.size)
			}
			to = pos.Offset
			found = true
		}
		n, err := countFrames(s.path(seg.id), from, to)
		if err != nil {
			return err
		}
		acked += n
	}
	if !found {
		return fmt.Errorf("%w: segment %d does not exist", ErrBadPosition, pos.Segment)
	}

	// Move the cursor over the ends of sealed segments so they can be deleted.
	for i, seg := range s.segments[:len(s.segments)-1] {
		if seg.id == pos.Segment && pos.Offset == seg.size {
			pos = Position{Segment: s.segments[i+1].id}
		}
	}
	// When everything is acknowledged and the active segment has grown, start
	// a fresh one so the acknowledged bytes can be reclaimed now rather than
	// when the segment fills. The threshold also follows MaxBytes so that a
	// small spool cannot wedge full of acknowledged data.
	if last := s.segments[len(s.segments)-1]; pos.Segment == last.id && pos.Offset == last.size && last.size >= min(s.segmentBytes, s.maxBytes)/4 {
		if err := s.roll(); err != nil {
			return err
		}
		pos = Position{Segment: s.segments[len(s.segments)-1].id}
	}
	if err := writeCursor(s.dir, pos); err != nil {
		return err
	}
	s.cursor = pos
	s.pending -= acked

	kept := s.segments[:0]
	removed := false
	for _, seg := range s.segments {
		if seg.id < pos.Segment {
			if err := os.Remove(s.path(seg.id)); err != nil && !errors.Is(err, os.ErrNotExist) {
				// Open removes it later; the cursor already says it is done.
				s.log.Info("removing acknowledged segment failed", "segment", seg.id, "error", err.Error())
			}
			s.diskBytes -= seg.size
			removed = true
			continue
		}
		kept = append(kept, seg)
	}
	s.segments = kept
	if removed {
		if err := syncDir(s.dir); err != nil {
			s.log.Info("syncing spool directory after removing segments failed", "error", err.Error())
		}
	}
	return nil
}

// marshalEnvelope is the one encoding of envelopes on disk.
func marshalEnvelope(e *capture.Envelope) ([]byte, error) { return json.Marshal(e) }

// Dir returns the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Close releases the spool's files. Everything appended is already durable.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.active.Close(); err != nil {
		return fmt.Errorf("while closing active segment: %w", err)
	}
	return nil
}
