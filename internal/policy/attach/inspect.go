package attach

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
)

// errInternal marks a panic recovered inside Inspect: a bug in this package
// or a dependency, never an expected outcome of hostile input.
var errInternal = errors.New("attach: internal error")

// inspector holds the state of one Inspect call. It is not shared.
type inspector struct {
	budget
	heads [][]byte // scratch for member heads, one per depth
}

// Inspect reads content (an io.ReaderAt of size bytes) within limits and
// reports what it finds. Hostile input yields findings (Malformed, Bomb,
// Partial), not errors; the error is for the caller's side: a nil reader, a
// negative size, a storage read that failed (the report then holds what was
// found before it), or a recovered internal panic. It never reads more than
// lim.MaxInspectBytes from r.
//
// m supplies the name (for extension checks) and the declared size (a
// mismatch with size is reported as Malformed: truncated or substituted).
func Inspect(m Meta, r io.ReaderAt, size int64, lim Limits) (Report, error) {
	rep, _, err := inspect(m, r, size, lim)
	return rep, err
}

// inspect is Inspect that also returns the spent budget, for tests that
// check the limits held.
func inspect(m Meta, r io.ReaderAt, size int64, lim Limits) (rep Report, spent *budget, err error) {
	rep = nameReport(m.Name)
	switch {
	case r == nil:
		return InspectMeta(m), nil, errors.New("attach: nil content reader")
	case size < 0:
		rep = InspectMeta(m)
		rep.Malformed = true
		return rep, nil, fmt.Errorf("attach: negative content size %d", size)
	}
	in := &inspector{budget: budget{lim: lim.normalized()}}
	spent = &in.budget
	defer func() {
		if p := recover(); p != nil {
			rep.Partial = true
			err = fmt.Errorf("%w: inspecting %q: %v\n%s", errInternal, m.Name, p, debug.Stack())
		}
	}()
	root := &budgetReaderAt{r: r, size: size, b: &in.budget}
	in.content(&rep, root, size, nil, "", 0, true)
	if (m.Size > 0 && m.Size != size) || in.truncated {
		rep.Malformed = true
	}
	if in.ioErr != nil {
		return rep, spent, fmt.Errorf("while reading attachment %q: %w", m.Name, in.ioErr)
	}
	return rep, spent, nil
}

// content inspects size bytes reachable through ra. head, when not nil, is
// the start of the content already in memory and typ, when not empty, its
// sniffed type. whole says whether ra holds all of the content or only its
// start, in which case containers cannot be opened.
func (in *inspector) content(rep *Report, ra io.ReaderAt, size int64, head []byte, typ string, depth int, whole bool) {
	if head == nil {
		head = make([]byte, min(size, headLen))
		n, err := ra.ReadAt(head, 0)
		head = head[:n]
		if err != nil && err != io.EOF {
			in.classify(rep, fmt.Errorf("while reading the content head: %w", err))
			whole = false
		}
	}
	if typ == "" {
		typ = sniff(head, ra, size, whole)
	}
	rep.Type = typ
	switch typ {
	case TypeZip:
		if in.openable(rep, whole, depth+1) {
			in.zip(rep, ra, size, depth)
		}
	case TypeOLE2:
		if whole {
			in.ole(rep, ra, size, depth)
		} else {
			rep.Partial = true
		}
	case TypeGzip:
		if in.openable(rep, whole, depth+1) {
			in.gzip(rep, ra, size, depth)
		}
	case TypeTar:
		if in.openable(rep, whole, depth+1) {
			in.tar(rep, io.NewSectionReader(ra, 0, size), depth+1)
		}
	case TypeRar:
		in.rar(rep, ra, size, whole)
	case Type7z:
		in.sevenZip(rep, ra, size, whole)
	}
	in.finish(rep)
}

// openable reports whether a container may be opened, recording why not.
func (in *inspector) openable(rep *Report, whole bool, childDepth int) bool {
	switch {
	case in.stop:
		rep.Partial = true
		return false
	case !in.depthOK(rep, childDepth):
		return false
	case !whole:
		rep.Partial = true
		return false
	}
	return true
}

// finish applies the checks that need both the final type and the name.
// Text named as a Windows script runs when double-clicked, so it is a
// script; unknown content with such a name is still executable by name.
func (in *inspector) finish(rep *Report) {
	e := ext(rep.Name)
	if scriptExts[e] {
		switch rep.Type {
		case TypeText:
			rep.Type = TypeScript
			rep.Executable = true
		case TypeUnknown:
			rep.Executable = true
		}
	}
	rep.Executable = rep.Executable || typeExecutable[rep.Type]
	rep.NameMismatch = rep.NameMismatch || nameMismatch(rep.Type, rep.Name)
}

// head returns the scratch buffer for member heads at depth. Members at one
// depth are inspected one after another, so one buffer per depth suffices.
func (in *inspector) head(depth int) []byte {
	for len(in.heads) <= depth {
		in.heads = append(in.heads, nil)
	}
	if in.heads[depth] == nil {
		in.heads[depth] = make([]byte, headLen)
	}
	return in.heads[depth]
}

// needsReaderAt lists containers that must be held in memory to be opened
// (their index is at the end, or they are read by offset).
var needsReaderAt = map[string]bool{
	TypeZip: true, TypeOLE2: true, TypeGzip: true, TypeRar: true, Type7z: true,
}

// depthLimited lists the containers whose members are inspected as content,
// so opening them costs a level. The others are read for their own
// structure only.
var depthLimited = map[string]bool{TypeZip: true, TypeGzip: true, TypeTar: true}

// memberOpts tunes member for its caller.
type memberOpts struct {
	keep    int64 // return up to keep bytes of the member (OOXML part scans)
	flatTar bool  // a tar here is gzip's payload: its members do not add a level
	size    int64 // declared size, a hint for buffer allocation only
}

// maxSizeHint caps the allocation a declared size may cause up front; the
// declaration is the attacker's, and buffers still grow as bytes arrive.
const maxSizeHint = 8 << 20

// member inspects one archive member whose decompressed bytes come from rd
// (already wrapped in the decompression limits) at the given depth. The
// member is read to its end even when only its head matters, so that limits
// and checksums see every byte; it is held in memory only when it must be
// opened as a container, or when the caller asked to keep it.
func (in *inspector) member(name string, rd io.Reader, depth int, opt memberOpts) (rep Report, kept []byte, complete bool) {
	rep = nameReport(name)
	head := in.head(depth)
	n, err := fill(rd, head)
	head = head[:n]
	if err != nil && err != io.EOF {
		in.classify(&rep, fmt.Errorf("while reading member %q: %w", name, err))
		in.content(&rep, bytes.NewReader(head), int64(n), head, "", depth, false)
		return rep, nil, false
	}
	ended := err == io.EOF // the whole member is in head
	typ := sniff(head, nil, 0, ended)
	if typ == TypeTar {
		// Tar is walked as a stream, never held in memory. A copy of head:
		// with flatTar the tar's own members reuse this depth's scratch
		// while the tar reader is still consuming it.
		rep.Type = TypeTar
		childDepth := depth + 1
		if opt.flatTar {
			childDepth = depth
		}
		if in.openable(&rep, true, childDepth) {
			in.tar(&rep, io.MultiReader(bytes.NewReader(bytes.Clone(head)), rd), childDepth)
		}
		if !ended {
			in.drain(&rep, rd)
		}
		in.finish(&rep)
		return rep, nil, false
	}
	if ended {
		if opt.keep > 0 {
			kept = bytes.Clone(head)
			head = kept
		}
		in.content(&rep, bytes.NewReader(head), int64(n), head, typ, depth, true)
		return rep, kept, true
	}
	limit := opt.keep
	// Hold a container in memory only if it will be opened.
	if needsReaderAt[typ] && !in.stop && !(depthLimited[typ] && depth+1 > in.lim.MaxDepth) {
		limit = max(limit, in.lim.MaxInspectBytes)
	}
	if limit <= 0 {
		in.drain(&rep, rd)
		in.content(&rep, bytes.NewReader(head), int64(n), head, typ, depth, false)
		return rep, nil, false
	}
	buf := append(make([]byte, 0, max(2*int64(len(head)), min(opt.size+1, limit+1, maxSizeHint))), head...)
	buf, err = readUpTo(rd, buf, limit)
	whole := int64(len(buf)) <= limit
	if err != nil {
		in.classify(&rep, fmt.Errorf("while reading member %q: %w", name, err))
		whole = false
	} else if !whole {
		buf = buf[:limit]
		in.drain(&rep, rd)
	}
	in.content(&rep, bytes.NewReader(buf), int64(len(buf)), buf[:min(len(buf), headLen)], typ, depth, whole)
	if opt.keep > 0 {
		return rep, buf, whole
	}
	return rep, nil, whole
}

// drain reads a member to its end without keeping it, so that bomb limits,
// CRCs and declared sizes are still checked.
func (in *inspector) drain(rep *Report, rd io.Reader) {
	if _, err := io.Copy(io.Discard, rd); err != nil {
		in.classify(rep, fmt.Errorf("while reading to the end of a member: %w", err))
	}
}

// fill reads into buf until it is full or the stream ends. Unlike
// io.ReadFull it returns io.EOF only for a clean end, so a stream that fails
// with io.ErrUnexpectedEOF (a truncated member) is not mistaken for a short
// one.
func fill(r io.Reader, buf []byte) (int, error) {
	n, idle := 0, 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
		if idle = stalled(idle, k); idle > maxIdleReads {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// readUpTo appends r to buf until EOF or until buf holds more than limit
// bytes; a result longer than limit means the stream had more.
func readUpTo(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	idle := 0
	for int64(len(buf)) <= limit {
		if len(buf) == cap(buf) {
			grow := min(max(cap(buf), 32<<10), int(limit+1)-len(buf))
			buf = append(buf, make([]byte, grow)...)[:len(buf)]
		}
		end := min(int64(cap(buf)), limit+1)
		n, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if idle = stalled(idle, n); idle > maxIdleReads {
			return buf, io.ErrNoProgress
		}
	}
	return buf, nil
}

// maxIdleReads bounds consecutive empty reads: a reader that returns 0, nil
// forever would otherwise spin the loops above (io.Reader discourages it but
// does not forbid it).
const maxIdleReads = 100

// stalled counts consecutive empty reads.
func stalled(idle, n int) int {
	if n == 0 {
		return idle + 1
	}
	return 0
}
