package attach

import (
	"errors"
	"fmt"
	"io"
)

// Limits bounds the work one attachment may cost (zip bombs, deep nesting).
// Every limit applies to the whole attachment, nested members included, so an
// adversarial file costs at most these figures however it is built.
// A zero or negative field takes its DefaultLimits value.
type Limits struct {
	// MaxDepth is how many container levels (zip, gzip, tar, OLE packages)
	// are opened. A container that would need one more level is not opened
	// and the report is marked Bomb and Partial.
	MaxDepth int
	// MaxEntries is the total number of archive members looked at.
	MaxEntries int
	// MaxTotalBytes is the total decompressed output across all members.
	MaxTotalBytes int64
	// MaxRatio is the largest output:input ratio a member may reach once it
	// has produced more than 1 MiB.
	MaxRatio int64
	// MaxInspectBytes is how many bytes may be read from the attachment
	// itself, wherever they lie; it also caps how much of one member is held
	// in memory to open it as a nested container.
	MaxInspectBytes int64
}

// DefaultLimits returns the limits recommended by the policy-engine research
// (§7): depth 3, 10,000 entries, 256 MiB decompressed, ratio 100:1 after the
// first MiB, and 64 MiB read from the attachment.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:        3,
		MaxEntries:      10_000,
		MaxTotalBytes:   256 << 20,
		MaxRatio:        100,
		MaxInspectBytes: 64 << 20,
	}
}

// normalized replaces unset fields with defaults so that a zero Limits is
// safe rather than "no limits at all".
func (l Limits) normalized() Limits {
	d := DefaultLimits()
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxInspectBytes <= 0 {
		l.MaxInspectBytes = d.MaxInspectBytes
	}
	return l
}

const (
	// ratioGrace is the output a member may produce before the ratio limit
	// applies: small, highly compressible files (blank spreadsheets, logs)
	// legitimately exceed 100:1.
	ratioGrace = 1 << 20
	// headLen covers every signature we test, the deepest being ISO 9660's
	// "CD001" at 0x8001.
	headLen = 0x9000
	// metaReadCap bounds what mscfb may read while building its directory:
	// it allocates per entry it finds and would otherwise size that by the
	// file. (archive/zip gets a tighter cap: what our own walk read.)
	metaReadCap = 8 << 20
	// partCap bounds how much of an OOXML part is kept for the DDE and
	// relationship scans; real document.xml parts rarely exceed a few MiB.
	partCap = 8 << 20
	// relsCap bounds a relationships part; they are tiny in real documents.
	relsCap = 1 << 20
)

var (
	// errBudget reports that MaxInspectBytes of the attachment were read.
	errBudget = errors.New("attachment read budget exhausted")
	// errBomb reports that a decompression limit (ratio or total) was hit.
	errBomb = errors.New("decompression limit reached")
	// errCap reports that a third-party parser read past metaReadCap.
	errCap = errors.New("index read cap reached")
)

// budget is the per-attachment accounting shared by every level of
// recursion: the limits are about the attachment, not about one archive.
type budget struct {
	lim       Limits
	read      int64 // bytes read from the attachment itself
	total     int64 // decompressed bytes produced so far
	entries   int   // archive members seen so far
	exhausted bool  // a read was refused for MaxInspectBytes
	stop      bool  // a bomb limit was hit: decompress nothing more
	truncated bool  // the attachment ended before the size we were given
	ioErr     error // first storage error, reported to the caller
}

// bomb records that a bomb limit was hit. Decompression stops for the rest of
// the attachment: the verdict is reached and further work is what the
// attacker wants us to do. Name-level checks still run on what is left.
func (b *budget) bomb(r *Report) {
	r.Bomb = true
	r.Partial = true
	b.stop = true
}

// takeEntry counts one archive member and reports whether it may be looked at.
func (b *budget) takeEntry(r *Report) bool {
	if b.entries >= b.lim.MaxEntries {
		b.bomb(r)
		return false
	}
	b.entries++
	return true
}

// depthOK reports whether members at childDepth may be opened; deeper nesting
// is what recursive bombs (42.zip) and zip quines rely on.
func (b *budget) depthOK(r *Report, childDepth int) bool {
	if childDepth > b.lim.MaxDepth {
		r.Bomb = true
		r.Partial = true
		return false
	}
	return true
}

// classify turns an error met while parsing into findings. Limits become
// Bomb or Partial; storage errors become Partial (and are returned to the
// caller by Inspect); anything else means the file does not parse: Malformed.
func (b *budget) classify(r *Report, err error) {
	switch {
	case err == nil:
	case errors.Is(err, errBomb):
		b.bomb(r)
	case errors.Is(err, errBudget) || b.exhausted:
		r.Partial = true
	case b.ioErr != nil:
		r.Partial = true
	default:
		r.Malformed = true
	}
}

// budgetReaderAt guards the attachment itself: reads past size fail with
// io.EOF, and the total requested from the underlying reader never exceeds
// MaxInspectBytes, whichever parser asks.
type budgetReaderAt struct {
	r    io.ReaderAt
	size int64
	b    *budget
}

// ReadAt trims each request to the remaining budget, so the underlying
// reader is never asked for more than MaxInspectBytes in total.
func (g *budgetReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= g.size {
		return 0, io.EOF
	}
	var atEnd, short bool
	if rem := g.size - off; int64(len(p)) > rem {
		p, atEnd = p[:rem], true
	}
	left := g.b.lim.MaxInspectBytes - g.b.read
	if left <= 0 {
		g.b.exhausted = true
		return 0, errBudget
	}
	if int64(len(p)) > left {
		p, short = p[:left], true
	}
	g.b.read += int64(len(p))
	n, err := g.r.ReadAt(p, off)
	switch {
	case err == io.EOF && n < len(p):
		// The reader holds less than the caller said it would.
		g.b.truncated = true
		return n, io.ErrUnexpectedEOF
	case err != nil && err != io.EOF:
		if g.b.ioErr == nil {
			g.b.ioErr = err
		}
		return n, fmt.Errorf("while reading attachment at %d: %w", off, err)
	case short:
		g.b.exhausted = true
		return n, errBudget
	case atEnd:
		return n, io.EOF
	}
	return n, nil
}

// capReaderAt bounds how much a third-party parser (mscfb, archive/zip)
// reads while it indexes a file. Once the index is built, lift lets member
// reads through, still subject to the budgetReaderAt beneath.
type capReaderAt struct {
	r      io.ReaderAt
	left   int64
	lifted bool
	hit    bool
}

// ReadAt refuses a whole request that would pass the cap: a partial read
// would only make the parser fail later and less clearly.
func (c *capReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if c.lifted {
		return c.r.ReadAt(p, off)
	}
	if int64(len(p)) > c.left {
		c.hit = true
		return 0, errCap
	}
	c.left -= int64(len(p))
	return c.r.ReadAt(p, off)
}

func (c *capReaderAt) lift() { c.lifted = true }

// limitReader enforces MaxTotalBytes and MaxRatio on a decompressed stream.
// It lets through exactly the permitted bytes and fails with errBomb only if
// the stream has more, so a member that ends on the limit is not a bomb.
type limitReader struct {
	r          io.Reader
	b          *budget
	compressed int64 // input size the ratio is measured against
	n          int64 // output so far
}

func (b *budget) limit(r io.Reader, compressed int64) *limitReader {
	if compressed < 1 {
		compressed = 1
	}
	return &limitReader{r: r, b: b, compressed: compressed}
}

// Read passes through at most the bytes both limits still allow.
func (l *limitReader) Read(p []byte) (int, error) {
	if l.b.stop {
		return 0, errBomb
	}
	allowed := l.b.lim.MaxTotalBytes - l.b.total
	ratioAllowed := int64(ratioGrace)
	if l.compressed <= (1<<62)/l.b.lim.MaxRatio {
		ratioAllowed = max(ratioAllowed, l.compressed*l.b.lim.MaxRatio)
	} else {
		ratioAllowed = 1 << 62
	}
	allowed = min(allowed, ratioAllowed-l.n)
	if allowed < 0 {
		allowed = 0
	}
	// One byte past the limit tells a member that ends exactly on it from
	// one that goes on.
	if int64(len(p)) > allowed+1 {
		p = p[:allowed+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > allowed {
		n = int(allowed)
		l.n += int64(n)
		l.b.total += int64(n)
		return n, errBomb
	}
	l.n += int64(n)
	l.b.total += int64(n)
	return n, err
}
