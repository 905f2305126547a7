package devcluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-logr/logr"
)

// processRecord names one control plane process this StateDir started.
type processRecord struct {
	Name string `json:"name"`
	procInfo
}

// processTable is StateDir/run/processes.json: the control plane processes of
// the running vigil dev. etcd and kube-apiserver are started by envtest, which
// gives them no parent-death signal; if vigil dev is killed they live on and
// hold the etcd data directory's lock. The next start reads this file and
// stops exactly those processes (same id, same start time, same binary), so a
// crash never blocks the next run and no unrelated process is touched.
type processTable struct {
	path string
}

func (t processTable) write(recs []processRecord) error {
	if len(recs) == 0 {
		return nil
	}
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return fmt.Errorf("while encoding the process table: %w", err)
	}
	if err := writeFileAtomic(t.path, b, 0o600); err != nil {
		return fmt.Errorf("while writing the process table: %w", err)
	}
	return nil
}

// clearIfOwn removes the table if it still lists pid, so a control plane
// stopped late never removes the table of a newer one.
func (t processTable) clearIfOwn(pid int) error {
	recs, _, err := t.read()
	if errors.Is(err, errUnreadableTable) {
		return nil // not ours to judge; reap deals with it at the next start
	}
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.PID == pid {
			return t.clear()
		}
	}
	return nil
}

// read returns the recorded processes and whether the table exists; an
// errUnreadableTable error when its content does not decode.
func (t processTable) read() ([]processRecord, bool, error) {
	b, err := os.ReadFile(t.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("while reading the process table: %w", err)
	}
	var recs []processRecord
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, true, fmt.Errorf("%w: %v", errUnreadableTable, err)
	}
	return recs, true, nil
}

var errUnreadableTable = errors.New("unreadable process table")

func (t processTable) clear() error {
	if err := os.Remove(t.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("while removing the process table: %w", err)
	}
	return nil
}

// reap stops the processes a previous, crashed run left behind.
func (t processTable) reap(log logr.Logger) error {
	recs, exists, err := t.read()
	if errors.Is(err, errUnreadableTable) {
		log.Info("Ignored an unreadable process table", "path", t.path, "error", err.Error())
		return t.clear()
	}
	if err != nil {
		return err
	}
	if !exists {
		return nil
	}
	for _, rec := range recs {
		if !rec.alive() {
			continue
		}
		log.Info("Stopping a control plane process left by an earlier run", "process", rec.Name, "pid", rec.PID)
		_ = signalGroup(rec.PID, syscall.SIGTERM)
		deadline := time.Now().Add(15 * time.Second)
		for rec.alive() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if rec.alive() {
			_ = signalGroup(rec.PID, syscall.SIGKILL)
			for i := 0; rec.alive() && i < 50; i++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if rec.alive() {
			return fmt.Errorf("process %d (%s) from an earlier run does not stop", rec.PID, rec.Name)
		}
	}
	return t.clear()
}

// alive reports whether the recorded process still runs: same id, same start
// time and same binary, so a recycled process id never matches.
func (r processRecord) alive() bool {
	info, err := readProc(r.PID)
	if err != nil {
		return false
	}
	return info.StartTime == r.StartTime && info.Exe == r.Exe
}

// writeFileAtomic writes a file through a temporary file and a rename, so a
// reader (or a crash) never sees half of it.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("while creating %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("while creating a temporary file in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("while writing %s: %w", tmp, err)
	}
	if err := f.Chmod(mode); err != nil {
		_ = f.Close()
		return fmt.Errorf("while setting the mode of %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("while closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("while renaming %s to %s: %w", tmp, path, err)
	}
	return nil
}
