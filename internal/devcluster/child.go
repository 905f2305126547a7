package devcluster

import (
	"fmt"
	"os"
	"os/exec"
	"time"
)

// childProcess is a long-running helper process (kube-controller-manager)
// that vigil dev starts itself, with its output appended to a log file.
type childProcess struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the exit status; read only after exited is closed
}

func startChildProcess(name, path string, args []string, logPath string) (*childProcess, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("while opening the %s log: %w", name, err)
	}
	// The child writes to the file directly; our copy of the descriptor is
	// not needed once it started.
	defer func() { _ = logFile.Close() }()
	fmt.Fprintf(logFile, "==== vigil dev: starting %s at %s\n", name, time.Now().Format(time.RFC3339))
	cmd := exec.Command(path, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := startChild(cmd); err != nil {
		return nil, err
	}
	p := &childProcess{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop terminates the process group, politely first.
func (p *childProcess) stop(grace time.Duration) {
	stopGroup(p.cmd.Process.Pid, p.exited, grace)
}

// exitedEarly reports whether the process is gone, with its status.
func (p *childProcess) exitedEarly() (bool, error) {
	select {
	case <-p.exited:
		return true, p.err
	default:
		return false, nil
	}
}
