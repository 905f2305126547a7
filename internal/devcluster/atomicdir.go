package devcluster

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// projectedFile is one file of a ConfigMap, Secret, projected or downward
// API volume.
type projectedFile struct {
	data []byte
	mode os.FileMode
}

const atomicDataLink = "..data"

// writeAtomicDir makes dir hold exactly files, in the layout the kubelet
// uses so that a reader never sees a half-updated volume: the content lives in
// a hidden, timestamped directory; "..data" is a symlink to it; each visible
// top-level name is a symlink through "..data". An update writes a new
// directory and swaps "..data" with one rename. It reports whether anything
// changed.
func writeAtomicDir(dir string, files map[string]projectedFile) (bool, error) {
	for p := range files {
		if err := validateProjectedPath(p); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("while creating volume directory %s: %w", dir, err)
	}
	dataLink := filepath.Join(dir, atomicDataLink)
	oldTarget, err := os.Readlink(dataLink)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("while reading %s: %w", dataLink, err)
	}
	if oldTarget != "" {
		same, err := dirHolds(filepath.Join(dir, oldTarget), files)
		if err != nil {
			return false, err
		}
		if same {
			return false, nil
		}
	}

	tsDir, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return false, fmt.Errorf("while creating a data directory in %s: %w", dir, err)
	}
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return false, fmt.Errorf("while setting the mode of %s: %w", tsDir, err)
	}
	for p, f := range files {
		full := filepath.Join(tsDir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return false, fmt.Errorf("while creating the directory of %s: %w", p, err)
		}
		if err := os.WriteFile(full, f.data, 0o600); err != nil {
			return false, fmt.Errorf("while writing %s: %w", p, err)
		}
		// Chmod after writing: WriteFile's mode is filtered by the umask,
		// and a 0400 file could not be written at all.
		if err := os.Chmod(full, f.mode); err != nil {
			return false, fmt.Errorf("while setting the mode of %s: %w", p, err)
		}
	}

	tmpLink := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(tsDir), tmpLink); err != nil {
		return false, fmt.Errorf("while linking %s: %w", tmpLink, err)
	}
	if err := os.Rename(tmpLink, dataLink); err != nil {
		return false, fmt.Errorf("while swapping %s: %w", dataLink, err)
	}

	// The visible names: one symlink per top-level entry, through ..data,
	// so they follow every later swap.
	want := map[string]bool{}
	for p := range files {
		want[strings.SplitN(p, "/", 2)[0]] = true
	}
	for name := range want {
		link := filepath.Join(dir, name)
		target := filepath.Join(atomicDataLink, name)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		_ = os.RemoveAll(link)
		if err := os.Symlink(target, link); err != nil {
			return false, fmt.Errorf("while linking %s: %w", link, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("while listing %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "..") {
			if name != atomicDataLink && name != filepath.Base(tsDir) && e.IsDir() {
				// An older data directory (or one a crash left behind).
				_ = os.RemoveAll(filepath.Join(dir, name))
			}
			continue
		}
		if !want[name] {
			_ = os.RemoveAll(filepath.Join(dir, name))
		}
	}
	return true, nil
}

func validateProjectedPath(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p {
		return fmt.Errorf("invalid volume file path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || strings.HasPrefix(part, "..") {
			return fmt.Errorf("invalid volume file path %q: no element may start with '..'", p)
		}
	}
	return nil
}

// dirHolds reports whether dir holds exactly files, with the same modes.
func dirHolds(dir string, files map[string]projectedFile) (bool, error) {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		found = append(found, filepath.ToSlash(rel))
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("while reading %s: %w", dir, err)
	}
	if len(found) != len(files) {
		return false, nil
	}
	sort.Strings(found)
	for _, rel := range found {
		want, ok := files[rel]
		if !ok {
			return false, nil
		}
		full := filepath.Join(dir, filepath.FromSlash(rel))
		info, err := os.Stat(full)
		if err != nil {
			return false, fmt.Errorf("while reading %s: %w", full, err)
		}
		if info.Mode().Perm() != want.mode.Perm() {
			return false, nil
		}
		got, err := os.ReadFile(full)
		if err != nil {
			return false, fmt.Errorf("while reading %s: %w", full, err)
		}
		if !bytes.Equal(got, want.data) {
			return false, nil
		}
	}
	return true, nil
}
