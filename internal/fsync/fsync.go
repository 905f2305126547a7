// Package fsync makes what was written to a file, or a directory's entries
// (files created, renamed or removed in it), durable by path.
package fsync

import "os"

// Path fsyncs the file or directory at path through a descriptor of its
// own: on Linux fsync makes a file's written pages durable whichever
// descriptor wrote them, and a directory has to be opened to be synced.
func Path(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
