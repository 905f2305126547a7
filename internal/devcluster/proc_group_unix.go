//go:build unix

package devcluster

import (
	"fmt"
	"syscall"
)

// signalGroup signals every process of the group pid leads.
func signalGroup(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		return fmt.Errorf("invalid process id %d", pid)
	}
	return syscall.Kill(-pid, sig)
}

// procInfo is what the system says about one process (/proc on Linux).
type procInfo struct {
	PID       int    `json:"pid"`
	PPID      int    `json:"-"`
	StartTime uint64 `json:"startTime"`
	Exe       string `json:"exe"`
}
