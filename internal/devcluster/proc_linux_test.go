//go:build linux

package devcluster

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// parentHelperEnv switches the test binary into the role of a vigil dev
// that starts a child process and then waits to be killed.
const parentHelperEnv = "DEVCLUSTER_TEST_PARENT"

func TestMain(m *testing.M) {
	if os.Getenv(parentHelperEnv) == "1" {
		cmd := exec.Command("sleep", "300")
		if err := startChild(cmd); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
		select {} // until killed
	}
	os.Exit(m.Run())
}

// procState is the state letter of a process, "" when it is gone.
func procState(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	end := bytes.LastIndexByte(b, ')')
	if end < 0 || end+2 >= len(b) {
		return ""
	}
	return string(b[end+2])
}

// TestChildDiesWithParent kills a process that started a child with
// startChild, as a crash would kill vigil dev, and checks the child dies too.
func TestChildDiesWithParent(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), parentHelperEnv+"=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = parent.Process.Kill(); _ = parent.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the child's pid: %v", err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("helper said %q", line)
	}
	if s := procState(child); s == "" || s == "Z" {
		t.Fatalf("child %d not running (state %q)", child, s)
	}
	// The child leads its own process group.
	if pgid, err := syscall.Getpgid(child); err != nil || pgid != child {
		t.Fatalf("child process group = %d, %v; want %d", pgid, err, child)
	}
	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := procState(child)
		if s == "" || s == "Z" {
			return // gone, or dead and waiting for init to reap it
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("child %d outlived its killed parent (state %s)", child, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
