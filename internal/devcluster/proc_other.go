//go:build !unix

package devcluster

import (
	"errors"
	"syscall"
)

var errUnsupported = errors.New("vigil dev runs pods as process groups, which needs Linux (or another Unix)")

func childSysProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(int, syscall.Signal) error { return errUnsupported }

type procInfo struct {
	PID       int    `json:"pid"`
	PPID      int    `json:"-"`
	StartTime uint64 `json:"startTime"`
	Exe       string `json:"exe"`
}

func readProc(int) (procInfo, error) { return procInfo{}, errUnsupported }

func childProcesses() ([]procInfo, error) { return nil, nil }
