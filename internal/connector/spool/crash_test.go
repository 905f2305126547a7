package spool

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

// The crash test re-executes this test binary as a child that appends and
// acknowledges in a loop, reporting to a side file each batch it is about to
// append ("I first last"), each batch Append returned for ("A first last") and
// each acknowledgement Ack returned for ("K lastSeq"). The parent SIGKILLs it at
// random moments, reopens the spool and checks the promises: nothing reported
// appended is lost, nothing acknowledged comes back, no batch is half there.
const (
	crashChildDirEnv   = "VIGIL_SPOOL_CRASH_DIR"
	crashChildStartEnv = "VIGIL_SPOOL_CRASH_START"
	crashChildSeedEnv  = "VIGIL_SPOOL_CRASH_SEED"
	crashSideFile      = "report.txt"
	crashSpoolSubdir   = "spool"
	crashSegmentBytes  = 16 << 10
	crashMaxBytes      = 8 << 20
)

// TestCrashChild is the child's body; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildDirEnv)
	if dir == "" {
		t.Skip("only runs as the crash test's child process")
	}
	start, _ := strconv.Atoi(os.Getenv(crashChildStartEnv))
	seed, _ := strconv.ParseUint(os.Getenv(crashChildSeedEnv), 10, 64)
	rng := rand.New(rand.NewPCG(seed, 7))
	report, err := os.OpenFile(filepath.Join(dir, crashSideFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, crashSpoolSubdir), Options{MaxBytes: crashMaxBytes, SegmentBytes: crashSegmentBytes, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	next := start
	for {
		if rng.IntN(2) == 0 {
			n := 1 + rng.IntN(20)
			fmt.Fprintf(report, "I %d %d\n", next, next+n-1)
			if _, err := s.Append(testEnvelopes(next, n)); err != nil {
				if errors.Is(err, ErrSpoolFull) {
					continue
				}
				t.Fatal(err)
			}
			fmt.Fprintf(report, "A %d %d\n", next, next+n-1)
			next += n
			continue
		}
		b, err := s.Peek(1 + rng.IntN(15))
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Envelopes) == 0 {
			continue
		}
		last, _ := strconv.Atoi(b.Envelopes[len(b.Envelopes)-1].Record.NativeID)
		fmt.Fprintf(report, "P %d\n", last)
		if err := s.Ack(b.End); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(report, "K %d\n", last)
	}
}

type crashReport struct {
	intended [][2]int
	appended map[int]bool
	maxAcked int
	// maxAckTried covers an Ack that may have become durable before the kill
	// stopped the child from reporting it.
	maxAckTried int
	maxSeq      int
}

func readCrashReport(t *testing.T, path string) crashReport {
	t.Helper()
	rep := crashReport{appended: map[int]bool{}, maxAcked: -1, maxAckTried: -1, maxSeq: -1}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return rep
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// A line cut short by the kill has fewer fields; it reports nothing.
		if len(fields) < 2 {
			continue
		}
		nums := make([]int, 0, 2)
		for _, f := range fields[1:] {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("bad report line %q", sc.Text())
			}
			nums = append(nums, n)
		}
		switch {
		case fields[0] == "I" && len(nums) == 2:
			rep.intended = append(rep.intended, [2]int{nums[0], nums[1]})
			rep.maxSeq = max(rep.maxSeq, nums[1])
		case fields[0] == "A" && len(nums) == 2:
			for s := nums[0]; s <= nums[1]; s++ {
				rep.appended[s] = true
			}
		case fields[0] == "P" && len(nums) == 1:
			rep.maxAckTried = max(rep.maxAckTried, nums[0])
		case fields[0] == "K" && len(nums) == 1:
			rep.maxAcked = max(rep.maxAcked, nums[0])
		}
	}
	return rep
}

func TestCrashSafetyUnderSIGKILL(t *testing.T) {
	trials := 40
	if testing.Short() {
		trials = 8
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	start := 0
	var killedDuringWork int
	for trial := 0; trial < trials; trial++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			crashChildDirEnv+"="+dir,
			crashChildStartEnv+"="+strconv.Itoa(start),
			crashChildSeedEnv+"="+strconv.FormatUint(rng.Uint64(), 10),
		)
		side := filepath.Join(dir, crashSideFile)
		before := fileSize(side)
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting child: %v", err)
		}
		// Kill at a random point after the child has begun writing, not
		// after a fixed delay from its start: on a loaded machine a process
		// can take longer than the delay merely to start.
		for deadline := time.Now().Add(10 * time.Second); fileSize(side) == before && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("killing child: %v", err)
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != -1 {
			t.Fatalf("trial %d: child ended on its own (%v), so it failed before the kill", trial, err)
		}

		rep := readCrashReport(t, filepath.Join(dir, crashSideFile))
		s, err := Open(filepath.Join(dir, crashSpoolSubdir), Options{MaxBytes: crashMaxBytes, SegmentBytes: crashSegmentBytes, Logger: logr.Discard()})
		if err != nil {
			t.Fatalf("trial %d: reopening after kill: %v", trial, err)
		}
		b, err := s.Peek(1 << 30)
		if err != nil {
			t.Fatalf("trial %d: Peek: %v", trial, err)
		}
		if int64(len(b.Envelopes)) != s.Stats().PendingRecords {
			t.Fatalf("trial %d: Peek returned %d records, Stats says %d pending", trial, len(b.Envelopes), s.Stats().PendingRecords)
		}
		s.Close()
		pending := map[int]bool{}
		prev := -1
		for _, seq := range seqs(t, b.Envelopes) {
			if seq <= prev {
				t.Fatalf("trial %d: spool out of order or duplicated: %d after %d", trial, seq, prev)
			}
			prev = seq
			if seq <= rep.maxAcked {
				t.Fatalf("trial %d: record %d returned again after acknowledgement up to %d", trial, seq, rep.maxAcked)
			}
			pending[seq] = true
		}
		for seq := range rep.appended {
			if seq > rep.maxAckTried && !pending[seq] {
				t.Fatalf("trial %d: record %d was reported appended and is lost", trial, seq)
			}
		}
		for _, batch := range rep.intended {
			present, absent := 0, 0
			for seq := max(batch[0], rep.maxAckTried+1); seq <= batch[1]; seq++ {
				if pending[seq] {
					present++
				} else {
					absent++
				}
			}
			if present > 0 && absent > 0 {
				t.Fatalf("trial %d: batch %d-%d is partly in the spool (%d of %d)", trial, batch[0], batch[1], present, present+absent)
			}
		}
		if rep.maxSeq >= start {
			killedDuringWork++
		}
		start = rep.maxSeq + 1
	}
	if killedDuringWork < trials/2 {
		t.Fatalf("the child did work in only %d of %d trials; the test is not exercising the spool", killedDuringWork, trials)
	}
	t.Logf("%d trials, %d records intended in all", trials, start)
}

// fileSize is the size of path, or 0 if it does not exist yet.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
