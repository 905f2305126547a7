//go:build unix && !linux

package devcluster

import (
	"errors"
	"syscall"
)

// childSysProcAttr puts a child in its own process group. Only Linux has a
// parent-death signal; elsewhere a crashed vigil dev can leave children behind.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func readProc(pid int) (procInfo, error) {
	return procInfo{}, errors.New("process inspection needs Linux /proc")
}

func childProcesses() ([]procInfo, error) { return nil, nil }
