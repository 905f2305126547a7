package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Postgres is a throwaway PostgreSQL server: a real postmaster from the
// Debian packages hack/install-deps.sh installs, with its data in a
// temporary directory, on a free loopback port.
type Postgres struct {
	// DSN connects as the superuser to database "postgres".
	DSN     string
	dataDir string
	bin     string
	cred    *syscall.Credential
	opts    string
	logPath string
}

// postgresBinDir finds the newest installed server's binaries.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var usable []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			usable = append(usable, d)
		}
	}
	if len(usable) == 0 {
		return "", errors.New("no PostgreSQL server found under /usr/lib/postgresql; run hack/install-deps.sh (make test does)")
	}
	sort.Slice(usable, func(i, j int) bool { return majorOf(usable[i]) < majorOf(usable[j]) })
	return usable[len(usable)-1], nil
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// serverCredential is who runs the server: PostgreSQL refuses to run as
// root, so as root the packages' postgres user does.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres user the Debian package creates: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// StartPostgres starts a server for one test (or benchmark) and stops it at
// cleanup. fsync stays on: durability tests must see what production sees.
func StartPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	// Not tb.TempDir: its parent is private to the test's user, and the
	// server may run as another one.
	tmp, err := os.MkdirTemp("", "vigil-postgres-")
	if err != nil {
		tb.Fatal(err)
	}
	pg, err := startPostgres(tmp)
	if err != nil {
		_ = os.RemoveAll(tmp)
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := pg.Stop(); err != nil {
			tb.Logf("stopping PostgreSQL: %v", err)
		}
		_ = os.RemoveAll(tmp)
	})
	return pg
}

func startPostgres(tmp string) (*Postgres, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	// The temporary directory belongs to the test's user; the server needs a
	// directory of its own that it owns.
	root := filepath.Join(tmp, "pg")
	dataDir, sockDir := filepath.Join(root, "data"), filepath.Join(root, "sock")
	for _, d := range []string{root, sockDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if cred != nil {
		for _, d := range []string{tmp, root, sockDir} {
			if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, fmt.Errorf("while giving %s to the postgres user: %w", d, err)
			}
		}
	}
	pg := &Postgres{dataDir: dataDir, bin: bin, cred: cred}
	if out, err := pg.run("initdb", "-D", dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	pg.opts = fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=on -c max_connections=50", port, sockDir)
	pg.logPath = filepath.Join(root, "server.log")
	if err := pg.Restart(); err != nil {
		return nil, err
	}
	pg.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return pg, nil
}

// Restart starts the server on its data directory again (after Stop or
// Kill), running crash recovery if it was killed.
func (p *Postgres) Restart() error {
	if out, err := p.run("pg_ctl", "-D", p.dataDir, "-o", p.opts, "-l", p.logPath, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(p.logPath)
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	return nil
}

// Stop shuts the server down fast (open transactions roll back).
func (p *Postgres) Stop() error {
	if out, err := p.run("pg_ctl", "-D", p.dataDir, "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// Kill stops the server the way a crash would (SIGKILL to the postmaster
// and its children), for durability tests; Restart brings it back.
func (p *Postgres) Kill() error {
	pidFile, err := os.ReadFile(filepath.Join(p.dataDir, "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("while reading the postmaster pid: %w", err)
	}
	var pid int
	if _, err := fmt.Sscanf(string(pidFile), "%d", &pid); err != nil {
		return fmt.Errorf("while parsing the postmaster pid: %w", err)
	}
	// The postmaster's children die with it once it is gone; wait for that.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
	}
	return fmt.Errorf("postmaster %d did not exit", pid)
}

func (p *Postgres) run(tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(p.bin, tool), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
