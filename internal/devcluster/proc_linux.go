//go:build linux

package devcluster

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// childSysProcAttr puts a child in its own process group, so that a terminal's
// Ctrl-C reaches vigil dev only (which then stops children in order) and so
// that a whole group can be signalled, and makes the kernel SIGKILL the child
// when vigil dev dies, so that no pod process outlives it.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// readProc reads /proc/<pid>/stat and the exe link. The start time (in clock
// ticks since boot) tells a process apart from a later one that reuses its id.
func readProc(pid int) (procInfo, error) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procInfo{}, fmt.Errorf("while reading the stat of process %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may contain spaces or
	// parentheses itself, so parse from the last ')'.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return procInfo{}, fmt.Errorf("unexpected stat format for process %d", pid)
	}
	fields := bytes.Fields(stat[end+1:])
	// fields[0] is field 3 (state); ppid is field 4, starttime field 22.
	if len(fields) < 20 {
		return procInfo{}, fmt.Errorf("unexpected stat format for process %d", pid)
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	if err != nil {
		return procInfo{}, fmt.Errorf("while parsing the parent of process %d: %w", pid, err)
	}
	start, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return procInfo{}, fmt.Errorf("while parsing the start time of process %d: %w", pid, err)
	}
	exe, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
	return procInfo{PID: pid, PPID: ppid, StartTime: start, Exe: exe}, nil
}

// childProcesses lists the live children of this process.
func childProcesses() ([]procInfo, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("while listing /proc: %w", err)
	}
	self := os.Getpid()
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		info, err := readProc(pid)
		if err != nil {
			continue // it exited while we looked
		}
		if info.PPID == self {
			out = append(out, info)
		}
	}
	return out, nil
}
