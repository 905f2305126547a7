package segments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/vigil-operator/vigil/internal/fsync"
)

// FS is a Backend on a local filesystem, for single-node installs and
// development. It is an audit-trail-mode store, not WORM storage:
//
//   - Objects are written once (temporary file, fsync, no-clobber rename,
//     directory fsync) and left read-only (0444), so they are never
//     rewritten in place and survive a crash either whole or not at all.
//   - Retain-until and legal holds live in a sidecar file per object and
//     are enforced by this code: Delete, and shortening a retention, are
//     refused just as S3 Object Lock refuses them.
//   - Every change and every refusal is appended, time-stamped, to
//     audit.jsonl and fsynced before the call returns.
//
// What it cannot do is stop anyone who can write the directory (root, the
// pod's user, a backup restore) from deleting or replacing files: the
// operating system, not this code, has the last word. SEC 17a-4(f)'s
// audit-trail alternative accepts that when the archive's tamper-evident
// log records every record and deletion so that changes are detected;
// customers who need non-rewriteable, non-erasable storage use the S3
// backend with Object Lock. FS assumes one process owns the directory.
//
// Layout under the root directory:
//
//	objects/<key>        the object, mode 0444
//	locks/<key>.json     its version id, size, SHA-256, retain-until, hold
//	audit.jsonl          one JSON event per line
type FS struct {
	root string
	now  func() time.Time

	// mu serialises changes, so that the exists-check of Put and the
	// lock-check of Delete are not raced by this process.
	mu    sync.Mutex
	audit *os.File
}

// NewFS opens (creating if needed) an FS backend rooted at dir.
func NewFS(dir string) (*FS, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("segment store directory %q: %w", dir, err)
	}
	for _, d := range []string{filepath.Join(root, "objects"), filepath.Join(root, "locks")} {
		if err := mkdirAllSync(d); err != nil {
			return nil, fmt.Errorf("while creating the segment store directory: %w", err)
		}
	}
	audit, err := os.OpenFile(filepath.Join(root, "audit.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("while opening the segment store's audit trail: %w", err)
	}
	if err := syncDir(root); err != nil {
		audit.Close()
		return nil, err
	}
	return &FS{root: root, now: time.Now, audit: audit}, nil
}

// Close releases the audit trail file. The FS cannot be used afterwards.
func (f *FS) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.audit.Close()
}

// Root is the directory the backend stores under.
func (f *FS) Root() string { return f.root }

// fsLock is the sidecar of one object.
type fsLock struct {
	VersionID   string    `json:"versionID"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Created     time.Time `json:"created"`
	RetainUntil time.Time `json:"retainUntil"`
	LegalHold   bool      `json:"legalHold"`
}

func (f *FS) dataPath(key string) string {
	return filepath.Join(f.root, "objects", filepath.FromSlash(key))
}

func (f *FS) lockPath(key string) string {
	return filepath.Join(f.root, "locks", filepath.FromSlash(key)+".json")
}

// validateKey keeps keys to paths that cannot leave the store's directory
// or collide with its temporary files.
func validateKey(key string) error {
	if len(key) == 0 || len(key) > 1024 {
		return fmt.Errorf("%w: object key of %d bytes; want 1 to 1024", ErrInvalid, len(key))
	}
	if err := validatePath(key); err != nil {
		return fmt.Errorf("%w: object key %q: %v", ErrInvalid, key, err)
	}
	return nil
}

// Put implements Backend.
func (f *FS) Put(ctx context.Context, key string, body io.Reader, size int64, lock Lock) (string, error) {
	if err := validateKey(key); err != nil {
		return "", err
	}
	if size < 0 {
		return "", fmt.Errorf("%w: object size %d", ErrInvalid, size)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	// Whole seconds, as S3 keeps them, so both backends report the same
	// date; rounding up never retains for less than asked.
	lock.RetainUntil = ceilSecond(lock.RetainUntil)
	if !lock.RetainUntil.After(now) {
		return "", fmt.Errorf("%w: retain-until %s is not in the future", ErrInvalid, lock.RetainUntil.UTC().Format(time.RFC3339))
	}
	dataPath := f.dataPath(key)
	if _, err := os.Lstat(dataPath); err == nil {
		return "", fmt.Errorf("%w: %s", ErrExists, key)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("while checking %s: %w", key, err)
	}
	dataDir := filepath.Dir(dataPath)
	for _, d := range []string{dataDir, filepath.Dir(f.lockPath(key))} {
		if err := mkdirAllSync(d); err != nil {
			return "", fmt.Errorf("while storing %s: %w", key, err)
		}
	}

	tmp, sum, err := writeTemp(dataDir, body, size)
	if err != nil {
		return "", fmt.Errorf("while storing %s: %w", key, err)
	}
	defer os.Remove(tmp) // after the link below it is only a second name

	meta := fsLock{
		VersionID:   ulid.Make().String(),
		Size:        size,
		SHA256:      hex.EncodeToString(sum[:]),
		Created:     now.UTC(),
		RetainUntil: lock.RetainUntil.UTC(),
		LegalHold:   lock.LegalHold,
	}
	// The sidecar goes first: once the object is visible it is protected.
	// A crash in between leaves a sidecar without an object, which every
	// read treats as absent and the next Put of the key replaces.
	if err := f.writeLock(key, meta); err != nil {
		return "", err
	}
	// A hard link is a rename that refuses to replace an existing name, so
	// even a second process cannot overwrite a stored object this way.
	if err := os.Link(tmp, dataPath); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("%w: %s", ErrExists, key)
		}
		return "", fmt.Errorf("while storing %s: %w", key, err)
	}
	if err := os.Remove(tmp); err != nil {
		return "", fmt.Errorf("while storing %s: %w", key, err)
	}
	if err := syncDir(dataDir); err != nil {
		return "", fmt.Errorf("while storing %s: %w", key, err)
	}
	return meta.VersionID, f.record(auditEvent{Op: "put", Key: key, VersionID: meta.VersionID, Size: size, SHA256: meta.SHA256, RetainUntil: &meta.RetainUntil, LegalHold: &meta.LegalHold})
}

// writeTemp copies exactly size bytes into a new read-only temporary file
// in dir and makes it durable. The mode is set before the fsync so that the
// object never has a durable writable form.
func writeTemp(dir string, body io.Reader, size int64) (string, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	tmp, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return "", sum, err
	}
	name := tmp.Name()
	fail := func(err error) (string, [sha256.Size]byte, error) {
		tmp.Close()
		os.Remove(name)
		return "", sum, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, size))
	if err != nil {
		return fail(err)
	}
	if n != size {
		return fail(fmt.Errorf("%w: body ended after %d of %d bytes", ErrInvalid, n, size))
	}
	if err := tmp.Chmod(0o444); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return "", sum, err
	}
	copy(sum[:], h.Sum(nil))
	return name, sum, nil
}

// writeLock replaces key's sidecar atomically and durably.
func (f *FS) writeLock(key string, meta fsLock) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	path := f.lockPath(key)
	dir := filepath.Dir(path)
	tmp, _, err := writeTemp(dir, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("while writing the lock of %s: %w", key, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("while writing the lock of %s: %w", key, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("while writing the lock of %s: %w", key, err)
	}
	return nil
}

// readLock returns the sidecar of an existing object; versionID, when set,
// must match.
func (f *FS) readLock(key, versionID string) (fsLock, error) {
	if err := validateKey(key); err != nil {
		return fsLock{}, err
	}
	if _, err := os.Lstat(f.dataPath(key)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fsLock{}, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return fsLock{}, fmt.Errorf("while reading %s: %w", key, err)
	}
	b, err := os.ReadFile(f.lockPath(key))
	if err != nil {
		// An object without its sidecar was not written by Put: treat it as
		// damage, not as an unprotected object.
		return fsLock{}, fmt.Errorf("%w: %s has no lock record: %v", ErrCorrupt, key, err)
	}
	var meta fsLock
	if err := json.Unmarshal(b, &meta); err != nil || meta.VersionID == "" {
		return fsLock{}, fmt.Errorf("%w: lock record of %s is unreadable: %v", ErrCorrupt, key, err)
	}
	if versionID != "" && versionID != meta.VersionID {
		return fsLock{}, fmt.Errorf("%w: %s version %s", ErrNotFound, key, versionID)
	}
	return meta, nil
}

// Get implements Backend.
func (f *FS) Get(ctx context.Context, key, versionID string) (io.ReadCloser, error) {
	if _, err := f.readLock(key, versionID); err != nil {
		return nil, err
	}
	file, err := os.Open(f.dataPath(key))
	if err != nil {
		return nil, fmt.Errorf("while reading %s: %w", key, err)
	}
	return file, nil
}

// GetRange implements Backend.
func (f *FS) GetRange(ctx context.Context, key, versionID string, offset, length int64) ([]byte, error) {
	meta, err := f.readLock(key, versionID)
	if err != nil {
		return nil, err
	}
	if err := checkRange(key, offset, length, meta.Size); err != nil {
		return nil, err
	}
	file, err := os.Open(f.dataPath(key))
	if err != nil {
		return nil, fmt.Errorf("while reading %s: %w", key, err)
	}
	defer file.Close()
	buf := make([]byte, length)
	if _, err := file.ReadAt(buf, offset); err != nil {
		return nil, fmt.Errorf("while reading %d bytes at %d of %s: %w", length, offset, key, err)
	}
	return buf, nil
}

func checkRange(key string, offset, length, size int64) error {
	if offset < 0 || length < 1 || offset > size || size-offset < length {
		return fmt.Errorf("%w: range of %d bytes at %d is outside %s (%d bytes)", ErrInvalid, length, offset, key, size)
	}
	return nil
}

// Stat implements Backend.
func (f *FS) Stat(ctx context.Context, key, versionID string) (ObjectInfo, error) {
	meta, err := f.readLock(key, versionID)
	if err != nil {
		return ObjectInfo{}, err
	}
	return ObjectInfo{Key: key, VersionID: meta.VersionID, Size: meta.Size, Modified: meta.Created, RetainUntil: meta.RetainUntil, LegalHold: meta.LegalHold}, nil
}

// SetLegalHold implements Backend.
func (f *FS) SetLegalHold(ctx context.Context, key, versionID string, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	meta, err := f.readLock(key, versionID)
	if err != nil {
		return err
	}
	meta.LegalHold = on
	if err := f.writeLock(key, meta); err != nil {
		return err
	}
	op := "legal-hold-off"
	if on {
		op = "legal-hold-on"
	}
	return f.record(auditEvent{Op: op, Key: key, VersionID: meta.VersionID, LegalHold: &on})
}

// ExtendRetention implements Backend.
func (f *FS) ExtendRetention(ctx context.Context, key, versionID string, until time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	meta, err := f.readLock(key, versionID)
	if err != nil {
		return err
	}
	until = ceilSecond(until)
	if until.Before(meta.RetainUntil) {
		reason := fmt.Sprintf("retain-until %s is earlier than the current %s", until.Format(time.RFC3339Nano), meta.RetainUntil.Format(time.RFC3339Nano))
		return f.refuse(auditEvent{Op: "extend-retention", Key: key, VersionID: meta.VersionID, RetainUntil: &until, Reason: reason})
	}
	if until.Equal(meta.RetainUntil) {
		return nil
	}
	meta.RetainUntil = until
	if err := f.writeLock(key, meta); err != nil {
		return err
	}
	return f.record(auditEvent{Op: "extend-retention", Key: key, VersionID: meta.VersionID, RetainUntil: &until})
}

// Delete implements Backend.
func (f *FS) Delete(ctx context.Context, key, versionID string) error {
	if versionID == "" {
		return fmt.Errorf("%w: deleting %s needs a version id", ErrInvalid, key)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	meta, err := f.readLock(key, versionID)
	if err != nil {
		return err
	}
	ev := auditEvent{Op: "delete", Key: key, VersionID: meta.VersionID, RetainUntil: &meta.RetainUntil, LegalHold: &meta.LegalHold}
	switch now := f.now(); {
	case meta.LegalHold:
		ev.Reason = "a legal hold is on"
		return f.refuse(ev)
	case now.Before(meta.RetainUntil):
		ev.Reason = fmt.Sprintf("retained until %s", meta.RetainUntil.Format(time.RFC3339Nano))
		return f.refuse(ev)
	}
	// The object goes before its sidecar, so no visible object is ever
	// without protection.
	dataPath, lockPath := f.dataPath(key), f.lockPath(key)
	if err := os.Remove(dataPath); err != nil {
		return fmt.Errorf("while deleting %s: %w", key, err)
	}
	if err := syncDir(filepath.Dir(dataPath)); err != nil {
		return fmt.Errorf("while deleting %s: %w", key, err)
	}
	if err := os.Remove(lockPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("while deleting the lock of %s: %w", key, err)
	}
	f.pruneEmpty(filepath.Dir(dataPath), filepath.Join(f.root, "objects"))
	f.pruneEmpty(filepath.Dir(lockPath), filepath.Join(f.root, "locks"))
	return f.record(ev)
}

// pruneEmpty removes now-empty directories from dir up to (not including)
// top, so purged accounts and buckets leave nothing behind to list.
func (f *FS) pruneEmpty(dir, top string) {
	for dir != top && strings.HasPrefix(dir, top) {
		if os.Remove(dir) != nil { // not empty, or gone: stop
			return
		}
		dir = filepath.Dir(dir)
		_ = syncDir(dir)
	}
}

// List implements Backend.
func (f *FS) List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		if err := validatePrefix(prefix); err != nil {
			yield(ObjectInfo{}, err)
			return
		}
		objects := filepath.Join(f.root, "objects")
		// Walk only the deepest directory the prefix names.
		start := objects
		if i := strings.LastIndex(prefix, "/"); i >= 0 {
			start = filepath.Join(objects, filepath.FromSlash(prefix[:i]))
		}
		err := filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && path == start {
					return filepath.SkipAll
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && path != start {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			rel, err := filepath.Rel(objects, path)
			if err != nil {
				return err
			}
			key := filepath.ToSlash(rel)
			if !strings.HasPrefix(key, prefix) {
				return nil
			}
			meta, err := f.readLock(key, "")
			if errors.Is(err, ErrNotFound) {
				return nil // deleted while we walked
			}
			if err != nil {
				return err
			}
			if !yield(ObjectInfo{Key: key, VersionID: meta.VersionID, Size: meta.Size, Modified: meta.Created}, nil) {
				return filepath.SkipAll
			}
			return nil
		})
		if err != nil {
			yield(ObjectInfo{}, fmt.Errorf("while listing %q: %w", prefix, err))
		}
	}
}

// validatePrefix accepts the prefixes of valid keys, so a listing cannot
// walk outside the store's directory: complete path segments must be
// valid, and the partial last one may hold only key characters.
func validatePrefix(prefix string) error {
	dir, tail := "", prefix
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		dir, tail = prefix[:i], prefix[i+1:]
		if err := validatePath(dir); err != nil {
			return fmt.Errorf("%w: prefix %q: %v", ErrInvalid, prefix, err)
		}
	}
	for i := 0; i < len(tail); i++ {
		if !isKeyByte(tail[i]) {
			return fmt.Errorf("%w: prefix %q has byte %#x", ErrInvalid, prefix, tail[i])
		}
	}
	return nil
}

// auditEvent is one line of audit.jsonl.
type auditEvent struct {
	Time        time.Time  `json:"time"`
	Op          string     `json:"op"`
	Key         string     `json:"key"`
	VersionID   string     `json:"versionID,omitempty"`
	Size        int64      `json:"size,omitempty"`
	SHA256      string     `json:"sha256,omitempty"`
	RetainUntil *time.Time `json:"retainUntil,omitempty"`
	LegalHold   *bool      `json:"legalHold,omitempty"`
	// Outcome is "done" or "refused".
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// record appends a completed change to the audit trail. Callers hold mu.
func (f *FS) record(ev auditEvent) error {
	ev.Outcome = "done"
	if err := f.appendAudit(ev); err != nil {
		return fmt.Errorf("%s of %s is done but its audit event was not written: %w", ev.Op, ev.Key, err)
	}
	return nil
}

// refuse appends a refused change to the audit trail and returns the
// ErrLocked error the caller sees. Callers hold mu.
func (f *FS) refuse(ev auditEvent) error {
	ev.Outcome = "refused"
	refusal := fmt.Errorf("%w: %s of %s refused: %s", ErrLocked, ev.Op, ev.Key, ev.Reason)
	if err := f.appendAudit(ev); err != nil {
		return fmt.Errorf("%w (and its audit event was not written: %v)", refusal, err)
	}
	return refusal
}

func (f *FS) appendAudit(ev auditEvent) error {
	ev.Time = f.now().UTC()
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if _, err := f.audit.Write(append(b, '\n')); err != nil {
		return err
	}
	return f.audit.Sync()
}

// mkdirAllSync creates dir and any missing parents, fsyncing each new
// directory's parent so the new entries survive a crash.
func mkdirAllSync(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAllSync(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// syncDir makes a directory's entries (new, renamed or removed files)
// durable.
func syncDir(dir string) error {
	if err := fsync.Path(dir); err != nil {
		return fmt.Errorf("while syncing directory %s: %w", dir, err)
	}
	return nil
}

// SetClock replaces the clock the backend enforces retention by, so that
// tests can let a lock run out without waiting for it.
func (f *FS) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}
