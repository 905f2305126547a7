//go:build unix && !linux

package devcluster

import (
	"errors"
	"fmt"
	"syscall"
)

// childSysProcAttr puts a child in its own process group. Only Linux has a
// parent-death signal; elsewhere a crashed vigil dev can leave children behind.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func signalGroup(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		return fmt.Errorf("invalid process id %d", pid)
	}
	return syscall.Kill(-pid, sig)
}

type procInfo struct {
	PID       int    `json:"pid"`
	PPID      int    `json:"-"`
	StartTime uint64 `json:"startTime"`
	Exe       string `json:"exe"`
}

func readProc(pid int) (procInfo, error) {
	return procInfo{}, errors.New("process inspection needs Linux /proc")
}

func childProcesses() ([]procInfo, error) { return nil, nil }
