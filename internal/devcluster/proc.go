package devcluster

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// spawnRequest asks the spawner thread to start one command.
type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// spawnQueue feeds the one goroutine that forks every child process.
//
// Why a dedicated thread: Linux sends a child its parent-death signal
// (Pdeathsig) when the *thread* that forked it exits, not the process. Go may
// end an OS thread whose goroutine locked it and returned without unlocking,
// which could kill a healthy pod process long before vigil dev exits. Forking
// from one thread that is locked forever and never returns makes the signal
// fire only when the whole process dies.
var spawnQueue = sync.OnceValue(func() chan<- spawnRequest {
	reqs := make(chan spawnRequest)
	go func() {
		runtime.LockOSThread() // never unlocked: this thread lives as long as the process
		for req := range reqs {
			req.done <- req.cmd.Start()
		}
	}()
	return reqs
})

// startChild starts cmd in its own process group, set to die with this
// process where the platform allows it.
func startChild(cmd *exec.Cmd) error {
	cmd.SysProcAttr = childSysProcAttr()
	done := make(chan error, 1)
	spawnQueue() <- spawnRequest{cmd: cmd, done: done}
	if err := <-done; err != nil {
		return fmt.Errorf("while starting %s: %w", cmd.Path, err)
	}
	return nil
}

// stopGroup asks the process group led by pid to stop with SIGTERM, waits up
// to grace for exited to close, then kills the group with SIGKILL and waits
// for exited. It reports whether the process had to be killed.
func stopGroup(pid int, exited <-chan struct{}, grace time.Duration) (killed bool) {
	select {
	case <-exited:
		// Nothing to stop, but a child of the leader may still hold the
		// group; make sure it is gone too.
		_ = signalGroup(pid, syscall.SIGKILL)
		return false
	default:
	}
	if err := signalGroup(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		grace = 0
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-exited:
	case <-timer.C:
		killed = true
	}
	// SIGKILL the group even after a clean exit of the leader: a process
	// the container left behind would otherwise keep running, which a real
	// container runtime would never allow.
	_ = signalGroup(pid, syscall.SIGKILL)
	<-exited
	return killed
}
