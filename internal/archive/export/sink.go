package export

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/vigil-operator/vigil/internal/fsync"
)

// Sink receives an export's files. Export writes one file at a time (it
// closes each before creating the next), in a deterministic order, and
// closes the sink when it is done, successfully or not.
type Sink interface {
	// Create starts a new file at a slash-separated relative path (an
	// fs.ValidPath), dated modTime. Creating a path twice is an error.
	Create(name string, modTime time.Time) (io.WriteCloser, error)
	// Close finishes the output.
	Close() error
}

// DirSink writes an export into a folder on disk.
type DirSink struct {
	root string
	// NoSync skips fsync of each file and folder. Only for tests and
	// benchmarks: a crash could then lose files of an export already logged
	// as produced (Verify would report them missing).
	NoSync bool
	dirs   map[string]bool
	open   bool
	// buf is reused for every file: one file is open at a time, and a
	// buffer per file would dominate the cost of an export of small files.
	buf *bufio.Writer
}

// NewDirSink prepares dir for an export. The folder is created if needed and
// must otherwise be empty, so that no stale file is mistaken for part of the
// export.
func NewDirSink(dir string) (*DirSink, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("export: creating the export folder: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("export: reading the export folder: %w", err)
	}
	if len(entries) > 0 {
		return nil, fmt.Errorf("export: the export folder %s is not empty", dir)
	}
	return &DirSink{root: dir, dirs: map[string]bool{".": true}, buf: bufio.NewWriterSize(nil, 64<<10)}, nil
}

// Create implements Sink. Files are created exclusively, never overwritten.
func (s *DirSink) Create(name string, modTime time.Time) (io.WriteCloser, error) {
	if !fs.ValidPath(name) || name == "." {
		return nil, fmt.Errorf("export: %q is not a valid file path", name)
	}
	if s.open {
		return nil, errors.New("export: a file is already open in the folder sink")
	}
	if err := s.mkdirs(path.Dir(name)); err != nil {
		return nil, err
	}
	full := filepath.Join(s.root, filepath.FromSlash(name))
	f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("export: creating %s: %w", name, err)
	}
	s.open = true
	s.buf.Reset(f)
	return &dirFile{sink: s, f: f, w: s.buf, name: name, modTime: modTime}, nil
}

func (s *DirSink) mkdirs(dir string) error {
	if s.dirs[dir] {
		return nil
	}
	if err := s.mkdirs(path.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(s.root, filepath.FromSlash(dir)), 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("export: creating folder %s: %w", dir, err)
	}
	s.dirs[dir] = true
	return nil
}

// Close implements Sink: it syncs every folder, so the new entries are
// durable once Export returns.
func (s *DirSink) Close() error {
	if s.NoSync {
		return nil
	}
	for dir := range s.dirs {
		if err := fsync.Path(filepath.Join(s.root, filepath.FromSlash(dir))); err != nil {
			return fmt.Errorf("export: syncing folder %s: %w", dir, err)
		}
	}
	return nil
}

type dirFile struct {
	sink    *DirSink
	f       *os.File
	w       *bufio.Writer
	name    string
	modTime time.Time
	closed  bool
}

func (d *dirFile) Write(p []byte) (int, error) { return d.w.Write(p) }

func (d *dirFile) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	d.sink.open = false
	err := d.w.Flush()
	if err == nil && !d.sink.NoSync {
		err = d.f.Sync()
	}
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(d.f.Name(), d.modTime, d.modTime)
	}
	if err != nil {
		return fmt.Errorf("export: writing %s: %w", d.name, err)
	}
	return nil
}

// ZipSink writes an export as one zip stream, for download or for storage
// as a single object. zip.Reader is an fs.FS, so VerifyZip and Verify read
// it back without unpacking.
type ZipSink struct {
	// Store writes entries uncompressed. Deflating tens of thousands of
	// small files costs more than half of an export's CPU time, and the
	// zip is about 2.5 times larger without it: set Store when the stream
	// is compressed or encrypted downstream anyway.
	Store bool
	zw    *zip.Writer
	names map[string]bool
	open  *zipFile
}

// NewZipSink writes the zip to w. Closing the sink writes the zip's central
// directory; it does not close w.
func NewZipSink(w io.Writer) *ZipSink {
	return &ZipSink{zw: zip.NewWriter(w), names: map[string]bool{}}
}

// Create implements Sink.
func (s *ZipSink) Create(name string, modTime time.Time) (io.WriteCloser, error) {
	if !fs.ValidPath(name) || name == "." {
		return nil, fmt.Errorf("export: %q is not a valid file path", name)
	}
	if s.names[name] {
		return nil, fmt.Errorf("export: %s written twice", name)
	}
	if s.open != nil && !s.open.closed {
		return nil, errors.New("export: a file is already open in the zip sink")
	}
	method := zip.Deflate
	if s.Store {
		method = zip.Store
	}
	w, err := s.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: modTime.UTC()})
	if err != nil {
		return nil, fmt.Errorf("export: adding %s to the zip: %w", name, err)
	}
	s.names[name] = true
	s.open = &zipFile{w: w}
	return s.open, nil
}

// Close implements Sink.
func (s *ZipSink) Close() error {
	if err := s.zw.Close(); err != nil {
		return fmt.Errorf("export: finishing the zip: %w", err)
	}
	return nil
}

// zipFile is an entry being written; the zip writer finishes it when the
// next entry is created, so Close only marks it done.
type zipFile struct {
	w      io.Writer
	closed bool
}

func (z *zipFile) Write(p []byte) (int, error) {
	if z.closed {
		return 0, errors.New("export: write to a closed zip entry")
	}
	return z.w.Write(p)
}

func (z *zipFile) Close() error { z.closed = true; return nil }
