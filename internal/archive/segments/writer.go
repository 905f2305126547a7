package segments

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/vigil-operator/vigil/internal/archive/keys"
)

// Writer defaults.
const (
	DefaultTargetSize  = 8 << 20
	DefaultMaxAge      = time.Minute
	DefaultMaxBuffered = 256 << 20
	// minRetention is the shortest retention a segment is stored with: a
	// segment sealed just as its bucket ends would otherwise carry a
	// retain-until already in the past, which storage refuses.
	minRetention = time.Minute
)

// ErrBufferFull: the Writer holds MaxBuffered bytes it could not store
// (the backend is failing) and takes no more until it can.
var ErrBufferFull = errors.New("segment writer buffer is full")

// Group is what the records of one segment share.
type Group struct {
	Account string
	Bucket  keys.Bucket
	KeyID   string
}

// Validate checks the group can head a segment.
func (g Group) Validate() error {
	return Header{ID: ulid.ULID{1}, Account: g.Account, Bucket: g.Bucket, KeyID: g.KeyID}.Validate()
}

// Sealed reports a segment stored by the backend: the moment its records'
// Refs become readable and durable.
type Sealed struct {
	Summary
	// Key and VersionID name the stored object.
	Key       string
	VersionID string
	// Lock is the protection it was stored with.
	Lock Lock
}

// WriterOptions tune a Writer. Zero values take the defaults.
type WriterOptions struct {
	// TargetSize: a segment is sealed before it would grow past this many
	// bytes (a single blob larger than that gets a segment of its own).
	// Default 8 MiB: large enough that per-object costs vanish, small
	// enough that a segment uploads in one request.
	TargetSize int
	// MaxAge: a segment is sealed once it has been open this long, at the
	// next Append to its group or SealDue. Default one minute. It bounds
	// how long a record waits to be stored.
	MaxAge time.Duration
	// MaxBuffered bounds the bytes held in memory, open segments and
	// sealed ones not yet stored together. Past it every open segment is
	// sealed, and while storing fails Append returns ErrBufferFull.
	// Default 256 MiB.
	MaxBuffered int
	// RetainUntil gives a group's retain-until date. Default: the end of
	// its expiry bucket, when every record in it has left retention.
	// Whatever it returns, a segment is retained at least a minute past its
	// sealing.
	RetainUntil func(Group) time.Time
	// LegalHold, if set, is asked just before a segment is stored whether
	// its group is under a legal hold; a held segment is stored with the
	// hold on, so holds placed before a record arrives still cover it.
	LegalHold func(context.Context, Group) (bool, error)
	// OnSeal, if set, is told of each stored segment, in sealing order;
	// the index that keeps Refs records the segment's version here. If it
	// fails, the Writer calls it again for the same segment (the object is
	// already stored) before storing the next one. It runs with the Writer
	// locked and must not call the Writer.
	OnSeal func(context.Context, Sealed) error
	// Now is the clock, for tests.
	Now func() time.Time
}

// Writer packs blobs into segments, one open segment per Group, and stores
// each sealed segment through a Backend. It is safe for concurrent use;
// storing happens in the calling goroutine, under the Writer's lock, so a
// slow backend slows Append down rather than letting memory grow.
//
// Durability contract: a Ref that Append returns is readable and durable
// only once OnSeal has reported its segment. Until then the blob exists
// only in memory, so the caller keeps its own copy (the ingest database
// row) until OnSeal, and after a crash re-appends what no OnSeal covered.
type Writer struct {
	backend Backend
	opts    WriterOptions

	mu        sync.Mutex
	open      map[Group]*openSegment
	openBytes int
	pending   []*pendingSegment
	pendBytes int
	closed    bool
}

type openSegment struct {
	group   Group
	builder *Builder
	started time.Time
}

// pendingSegment is sealed but not yet stored, or stored but not yet
// acknowledged by OnSeal.
type pendingSegment struct {
	data   []byte
	sealed Sealed
	group  Group
	stored bool
}

// NewWriter returns a Writer storing through b.
func NewWriter(b Backend, opts WriterOptions) (*Writer, error) {
	if b == nil {
		return nil, fmt.Errorf("%w: a segment writer needs a backend", ErrInvalid)
	}
	if opts.TargetSize == 0 {
		opts.TargetSize = DefaultTargetSize
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.MaxBuffered == 0 {
		opts.MaxBuffered = DefaultMaxBuffered
	}
	if opts.TargetSize < MaxHeaderSize+TrailerSize || opts.MaxAge < 0 || opts.MaxBuffered < opts.TargetSize {
		return nil, fmt.Errorf("%w: writer target size %d, max age %s, max buffered %d", ErrInvalid, opts.TargetSize, opts.MaxAge, opts.MaxBuffered)
	}
	if opts.RetainUntil == nil {
		opts.RetainUntil = func(g Group) time.Time { return g.Bucket.End() }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Writer{backend: b, opts: opts, open: map[Group]*openSegment{}}, nil
}

// Append adds a blob to its group's open segment and returns where it will
// be. An error means the blob was not taken. A segment that fills up (or
// has aged) is sealed and stored on the way; if storing fails the segment
// stays queued, Append still succeeds while under MaxBuffered, and the
// failure is reported by Flush and SealDue.
func (w *Writer) Append(ctx context.Context, g Group, blob []byte) (Ref, error) {
	if err := g.Validate(); err != nil {
		return Ref{}, err
	}
	if len(blob) == 0 || len(blob) > MaxBlobSize {
		return Ref{}, fmt.Errorf("%w: blob of %d bytes; want 1 to %d", ErrInvalid, len(blob), MaxBlobSize)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return Ref{}, fmt.Errorf("%w: segment writer is closed", ErrInvalid)
	}
	now := w.opts.Now()

	o := w.open[g]
	if o != nil && (o.builder.SealedSize()+GrowthFor(len(blob)) > w.opts.TargetSize || now.Sub(o.started) >= w.opts.MaxAge) {
		w.seal(o)
		_ = w.drain(ctx) // reported by Flush and SealDue; the blob is still taken
		o = nil
	}
	need := GrowthFor(len(blob))
	if o == nil {
		need += MaxHeaderSize + TrailerSize
	}
	if w.openBytes+w.pendBytes+need > w.opts.MaxBuffered {
		w.sealAll()
		need = GrowthFor(len(blob)) + MaxHeaderSize + TrailerSize
		if err := w.drain(ctx); err != nil && w.pendBytes+need > w.opts.MaxBuffered {
			return Ref{}, fmt.Errorf("%w: %d bytes wait to be stored: %w", ErrBufferFull, w.pendBytes, err)
		}
		o = w.open[g] // sealAll closed it
	}
	if o == nil {
		var err error
		if o, err = w.start(g, now); err != nil {
			return Ref{}, err
		}
	}
	before := o.builder.SealedSize()
	e, err := o.builder.Append(blob)
	if err != nil {
		return Ref{}, err
	}
	w.openBytes += o.builder.SealedSize() - before
	h := o.builder.Header()
	ref := Ref{Key: Key(h), Segment: h.ID, Offset: e.Offset, Length: e.Length, SHA256: e.SHA256}
	if o.builder.SealedSize() >= w.opts.TargetSize {
		w.seal(o)
		_ = w.drain(ctx)
	}
	return ref, nil
}

// start opens a segment for g.
func (w *Writer) start(g Group, now time.Time) (*openSegment, error) {
	id, err := ulid.New(ulid.Timestamp(now), ulid.DefaultEntropy())
	if err != nil {
		return nil, fmt.Errorf("while making a segment id: %w", err)
	}
	b, err := NewBuilder(Header{ID: id, Account: g.Account, Bucket: g.Bucket, KeyID: g.KeyID})
	if err != nil {
		return nil, err
	}
	o := &openSegment{group: g, builder: b, started: now}
	w.open[g] = o
	w.openBytes += b.SealedSize()
	return o, nil
}

// seal finishes an open segment and queues it for storing.
func (w *Writer) seal(o *openSegment) {
	size := o.builder.SealedSize()
	delete(w.open, o.group)
	w.openBytes -= size
	if o.builder.Count() == 0 {
		return // nothing to store
	}
	data, sum, err := o.builder.Seal()
	if err != nil {
		// Seal fails only on an empty or already sealed builder, and open
		// segments are neither.
		panic(fmt.Sprintf("segments: sealing open segment %s: %v", o.builder.Header().ID, err))
	}
	w.pending = append(w.pending, &pendingSegment{data: data, group: o.group, sealed: Sealed{Summary: sum, Key: Key(sum.Header)}})
	w.pendBytes += len(data)
}

func (w *Writer) sealAll() {
	for _, o := range w.open {
		w.seal(o)
	}
}

// drain stores queued segments in order and reports each to OnSeal,
// stopping at the first failure so that the order holds.
func (w *Writer) drain(ctx context.Context) error {
	for len(w.pending) > 0 {
		p := w.pending[0]
		if !p.stored {
			if err := w.store(ctx, p); err != nil {
				return fmt.Errorf("while storing segment %s: %w", p.sealed.Key, err)
			}
			p.stored = true
		}
		if w.opts.OnSeal != nil {
			if err := w.opts.OnSeal(ctx, p.sealed); err != nil {
				return fmt.Errorf("segment %s is stored (version %s) but recording it failed: %w", p.sealed.Key, p.sealed.VersionID, err)
			}
		}
		w.pending[0] = nil
		w.pending = w.pending[1:]
		w.pendBytes -= len(p.data)
	}
	return nil
}

// store puts one sealed segment. A retry after a lost response finds its
// own segment already stored (ErrExists) and adopts that version once the
// stored bytes prove to be the same segment.
func (w *Writer) store(ctx context.Context, p *pendingSegment) error {
	lock := Lock{RetainUntil: w.opts.RetainUntil(p.group)}
	if floor := w.opts.Now().Add(minRetention); lock.RetainUntil.Before(floor) {
		lock.RetainUntil = floor
	}
	if w.opts.LegalHold != nil {
		held, err := w.opts.LegalHold(ctx, p.group)
		if err != nil {
			return fmt.Errorf("while checking legal holds on %s: %w", p.group.Account, err)
		}
		lock.LegalHold = held
	}
	version, err := w.backend.Put(ctx, p.sealed.Key, bytes.NewReader(p.data), int64(len(p.data)), lock)
	if errors.Is(err, ErrExists) {
		version, err = w.adopt(ctx, p)
		if err == nil {
			info, statErr := w.backend.Stat(ctx, p.sealed.Key, version)
			if statErr != nil {
				return statErr
			}
			lock = Lock{RetainUntil: info.RetainUntil, LegalHold: info.LegalHold}
		}
	}
	if err != nil {
		return err
	}
	p.sealed.VersionID = version
	p.sealed.Lock = lock
	return nil
}

// adopt checks that the object already under p's key is p's segment: same
// size and the same whole-segment SHA-256 in its last bytes.
func (w *Writer) adopt(ctx context.Context, p *pendingSegment) (string, error) {
	info, err := w.backend.Stat(ctx, p.sealed.Key, "")
	if err != nil {
		return "", err
	}
	if info.Size == p.sealed.Size {
		tail, err := w.backend.GetRange(ctx, p.sealed.Key, info.VersionID, info.Size-int64(len(p.sealed.SHA256)), int64(len(p.sealed.SHA256)))
		if err != nil {
			return "", err
		}
		if bytes.Equal(tail, p.sealed.SHA256[:]) {
			return info.VersionID, nil
		}
	}
	return "", fmt.Errorf("%w: a different object already has key %s", ErrExists, p.sealed.Key)
}

// SealDue seals every segment open for MaxAge or longer and stores what is
// queued. Call it on a ticker (a fraction of MaxAge) so quiet groups are
// stored too.
func (w *Writer) SealDue(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.opts.Now()
	for _, o := range w.open {
		if now.Sub(o.started) >= w.opts.MaxAge {
			w.seal(o)
		}
	}
	return w.drain(ctx)
}

// Flush seals every open segment and stores everything queued.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flush(ctx)
}

func (w *Writer) flush(ctx context.Context) error {
	w.sealAll()
	return w.drain(ctx)
}

// Close flushes and then refuses further appends. If the flush fails the
// Writer stays open, so Close can be retried.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flush(ctx); err != nil {
		return err
	}
	w.closed = true
	return nil
}

// Buffered is the number of bytes held in memory: open segments plus sealed
// segments not yet stored or acknowledged.
func (w *Writer) Buffered() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.openBytes + w.pendBytes
}
