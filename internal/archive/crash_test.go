package archive_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/vigil-operator/vigil/internal/archive/api"
	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/archive/verify"
	"github.com/vigil-operator/vigil/internal/testenv"
)

// The crash test runs the real `vigil archive` binary, lets three writers post
// batches to it as connectors do, and SIGKILLs it at a random moment, over and
// over on the same data folder. The archive promises that a batch it answered
// 200 is durable, that a batch is stored whole or not at all, that a batch
// sent again (a connector retrying after a lost answer) is not stored twice,
// and that its tamper-evident log survives: the test checks each promise
// after every kill and again at the end, with the auditor's verifier.
const (
	crashAccount     = "desk/trader-li"
	crashConnector   = "system:serviceaccount:desk:trader-li-connector"
	crashAdmin       = "crash-test-admin"
	crashConnToken   = "crash-connector-token-0123456789"
	crashAdminToken  = "crash-admin-token-0123456789abcd"
	crashWriters     = 3
	crashBatchSize   = 20
	crashIngestPath  = "/v1/records?account=" + crashAccount + "&custodian=Li+Wei"
	crashReadyWithin = 20 * time.Second
)

// crashBatch is one batch a writer posts; body is the exact NDJSON sent, so a
// retry sends the same records (same ids, same dedup keys) as a connector's
// spool would.
type crashBatch struct {
	name  string
	body  []byte
	keys  []string // dedup keys of its records, in order
	acked bool
	sends int
}

// crashState is what the writers did, shared across trials.
type crashState struct {
	mu      sync.Mutex
	batches []*crashBatch
	byKey   map[string]*crashBatch
	// pending[w] is writer w's batch that got no 200 yet; it is sent again
	// before any new batch, as a connector retries the head of its spool.
	pending [crashWriters]*crashBatch
	next    [crashWriters]int

	acked            int // batches answered 200 (first time)
	resentAfterFail  int // sends of a batch whose previous send failed
	resentAfterAck   int // deliberate re-sends of an acknowledged batch
	connErrors       int // requests that failed without an HTTP answer
	inFlightAtKill   int // of those, requests started before the kill
	killsHitInFlight int // kills with at least one such request
	// killsBeforeCheckpoint: kills that left a log no checkpoint signed yet.
	killsBeforeCheckpoint int
}

func (s *crashState) newBatch(w int) *crashBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.next[w]
	s.next[w]++
	b := &crashBatch{name: fmt.Sprintf("w%d-b%d", w, n)}
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(w)*time.Hour + time.Duration(n)*time.Minute)
	for i := range crashBatchSize {
		env := storetest.Envelope(fmt.Sprintf("%s-r%d", b.name, i), base.Add(time.Duration(i)*time.Second),
			fmt.Sprintf("crash test %s record %d", b.name, i), i%3)
		line, err := json.Marshal(env)
		if err != nil {
			panic(err)
		}
		b.body = append(append(b.body, line...), '\n')
		b.keys = append(b.keys, env.Record.DedupKey)
		s.byKey[env.Record.DedupKey] = b
	}
	s.batches = append(s.batches, b)
	return b
}

// crashArchive is one run of `vigil archive`.
type crashArchive struct {
	cmd  *exec.Cmd
	url  string
	done chan error
	log  string
}

func TestArchiveSurvivesKill(t *testing.T) {
	trials := 8
	if testing.Short() {
		trials = 3
	}
	start := time.Now()
	bin := buildVigil(t)
	work := t.TempDir()
	dataDir := filepath.Join(work, "data")
	tokens := filepath.Join(work, "tokens")
	if err := os.WriteFile(tokens, []byte(crashConnToken+","+crashConnector+"\n"+crashAdminToken+","+crashAdmin+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	st := &crashState{byKey: map[string]*crashBatch{}}
	var pinned string // the verifier key the first run published

	for trial := range trials {
		a := startArchive(t, bin, dataDir, tokens, filepath.Join(work, fmt.Sprintf("archive-%d.log", trial)))
		if trial == 0 {
			pinned = readVerifierKey(t, dataDir)
		} else if got := readVerifierKey(t, dataDir); got != pinned {
			t.Fatalf("trial %d: the verifier key changed after a restart: %q, was %q", trial, got, pinned)
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: crashWriters}}
		var killed atomic.Bool
		var inFlightThisKill atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range crashWriters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runWriter(t, client, a.url, st, w, rand.New(rand.NewPCG(rng.Uint64(), uint64(w))), stop, &killed, &inFlightThisKill)
			}()
		}
		time.Sleep(time.Duration(50+rng.IntN(351)) * time.Millisecond)
		killed.Store(true)
		a.kill(t)
		close(stop)
		wg.Wait()
		client.CloseIdleConnections()
		if n := inFlightThisKill.Load(); n > 0 {
			st.killsHitInFlight++
			st.inFlightAtKill += int(n)
		}
		if t.Failed() {
			t.Logf("archive log of trial %d:\n%s", trial, tail(a.log))
			t.FailNow()
		}
		// The data folder as the kill left it, before any restart repairs it.
		checkDatabase(t, fmt.Sprintf("after kill %d", trial+1), dataDir, st, false)
		checkVerify(t, fmt.Sprintf("after kill %d", trial+1), dataDir, pinned, st, false)
	}

	// Restart once more, let every writer deliver what it still holds, and
	// check through the API what a reviewer and the operator would see.
	a := startArchive(t, bin, dataDir, tokens, filepath.Join(work, "archive-final.log"))
	client := &http.Client{}
	for w := range crashWriters {
		if b := st.pending[w]; b != nil {
			if code, _, res, err := post(client, a.url, b.body); err != nil || code != http.StatusOK {
				t.Fatalf("re-sending %s after the last restart: %d %v", b.name, code, err)
			} else if res.Inserted+res.Duplicates != crashBatchSize {
				t.Fatalf("re-sending %s: %+v", b.name, res)
			}
			st.resentAfterFail++
			b.acked, st.pending[w] = true, nil
			st.acked++
		}
	}
	checkAPI(t, client, a.url, st)
	a.stop(t)
	checkDatabase(t, "at the end", dataDir, st, true)
	checkVerify(t, "at the end", dataDir, pinned, st, true)

	if st.killsHitInFlight == 0 {
		t.Logf("no kill hit a request in flight in %d trials: the test ran but did not exercise a cut-off ingest", trials)
	}
	t.Logf("%d trials; %d kills hit %d requests in flight (%d connection errors in all); %d batches (%d records) acknowledged and verified; "+
		"%d re-sends after a failure, %d deliberate re-sends of acknowledged batches; %d kills left no checkpoint yet; %s",
		trials, st.killsHitInFlight, st.inFlightAtKill, st.connErrors, st.acked, st.acked*crashBatchSize,
		st.resentAfterFail, st.resentAfterAck, st.killsBeforeCheckpoint, time.Since(start).Round(time.Millisecond))
}

// runWriter posts batches until stop closes or the archive goes away. A batch
// without a 200 stays pending and is sent again first, here or in the next
// trial; now and then an acknowledged batch is sent again on purpose, as
// when a connector's acknowledgement of it was lost.
func runWriter(t *testing.T, client *http.Client, base string, st *crashState, w int, rng *rand.Rand,
	stop <-chan struct{}, killed *atomic.Bool, inFlight *atomic.Int64) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		st.mu.Lock()
		b := st.pending[w]
		st.mu.Unlock()
		retry := b != nil
		if b == nil {
			b = st.newBatch(w)
		}
		beforeKill := !killed.Load()
		code, data, res, err := post(client, base, b.body)
		st.mu.Lock()
		b.sends++
		if retry {
			st.resentAfterFail++
		}
		switch {
		case err != nil:
			st.pending[w] = b
			st.connErrors++
			st.mu.Unlock()
			if beforeKill {
				inFlight.Add(1)
			}
			return // the archive is gone: wait for the next trial
		case code != http.StatusOK:
			st.pending[w] = b
			st.mu.Unlock()
			if code != http.StatusServiceUnavailable {
				t.Errorf("posting %s: %d %s", b.name, code, data)
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		st.pending[w] = nil
		b.acked = true
		st.acked++
		st.mu.Unlock()
		if !retry && res.Inserted != crashBatchSize {
			t.Errorf("%s, sent for the first time, was answered %+v", b.name, res)
			return
		}
		if res.Inserted+res.Duplicates != crashBatchSize {
			t.Errorf("%s was answered %+v", b.name, res)
			return
		}
		if rng.IntN(8) == 0 {
			code, data, res, err := post(client, base, b.body)
			if err != nil {
				st.mu.Lock()
				st.connErrors++
				st.mu.Unlock()
				if beforeKill && !killed.Load() {
					inFlight.Add(1)
				}
				return
			}
			st.mu.Lock()
			st.resentAfterAck++
			st.mu.Unlock()
			if code != http.StatusOK || res.Inserted != 0 || res.Duplicates != crashBatchSize {
				t.Errorf("re-sending the acknowledged %s: %d %s", b.name, code, data)
				return
			}
		}
	}
}

func post(client *http.Client, base string, body []byte) (int, []byte, api.IngestResponse, error) {
	req, err := http.NewRequest(http.MethodPost, base+crashIngestPath, bytes.NewReader(body))
	if err != nil {
		return 0, nil, api.IngestResponse{}, err
	}
	req.Header.Set("Authorization", "Bearer "+crashConnToken)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, api.IngestResponse{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		// The status line came but the body was cut: no answer either.
		return 0, nil, api.IngestResponse{}, err
	}
	var res api.IngestResponse
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, &res); err != nil {
			return resp.StatusCode, data, res, fmt.Errorf("decoding %q: %w", data, err)
		}
	}
	return resp.StatusCode, data, res, nil
}

// checkDatabase reads archive.db read-only and checks the records against
// what the writers were told: every acknowledged batch is there, every batch
// is whole or absent, nothing is there twice or unasked for, and the
// statistics count the rows. With all, every batch must be there.
func checkDatabase(t *testing.T, when, dir string, st *crashState, all bool) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName)+"?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.Query(`SELECT account, dedup_key FROM records`)
	if err != nil {
		t.Fatalf("%s: reading records: %v", when, err)
	}
	seen := map[string]int{}
	perBatch := map[*crashBatch]int{}
	for rows.Next() {
		var account, key string
		if err := rows.Scan(&account, &key); err != nil {
			t.Fatal(err)
		}
		if account != crashAccount {
			t.Errorf("%s: a record of account %q, which no one wrote to", when, account)
		}
		seen[key]++
		if seen[key] == 2 {
			t.Errorf("%s: dedup key %s stored twice", when, key)
		}
		b := st.byKey[key]
		if b == nil {
			t.Errorf("%s: a record with dedup key %s that no writer sent", when, key)
			continue
		}
		perBatch[b]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var messages int64
	switch err := tx.QueryRow(`SELECT messages FROM account_stats WHERE account = ?`, crashAccount).Scan(&messages); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		t.Fatal(err)
	}
	total := 0
	for _, n := range seen {
		total += n
	}
	if messages != int64(total) {
		t.Errorf("%s: the statistics count %d messages, the records table holds %d", when, messages, total)
	}
	for _, b := range st.batches {
		n := perBatch[b]
		switch {
		case n != 0 && n != crashBatchSize:
			t.Errorf("%s: batch %s is partly stored: %d of %d records", when, b.name, n, crashBatchSize)
		case n == 0 && b.acked:
			t.Errorf("%s: batch %s was answered 200 (sent %d times) and is not stored", when, b.name, b.sends)
		case n == 0 && all:
			t.Errorf("%s: batch %s was never stored", when, b.name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// checkVerify runs the auditor's check on the data folder against the key
// pinned at the first start.
func checkVerify(t *testing.T, when, dir, pinned string, st *crashState, final bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pinned.key")
	if err := os.WriteFile(path, []byte(pinned+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := verify.ReadVerifierKey(path)
	if err != nil {
		t.Fatal(err)
	}
	// With the archive's own key and segment store: every record is
	// opened and checked, and read back from the WORM copy.
	kek, err := keys.LoadLocalKEK(sqlite.GeneratedKEKID, filepath.Join(dir, sqlite.KEKFile))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keys.NewKeyRing(kek)
	if err != nil {
		t.Fatal(err)
	}
	segs, err := segments.NewFS(segmentsDirOf(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer segs.Close()
	r, err := verify.DataDir(context.Background(), verify.DataDirOptions{Dir: dir, Verifier: v, KeyRing: ring, Segments: segs})
	if err != nil {
		t.Fatalf("%s: verify could not run: %v", when, err)
	}
	if r.Counts.RecordsOpened != r.Counts.Records {
		t.Fatalf("%s: verify opened %d of %d records", when, r.Counts.RecordsOpened, r.Counts.Records)
	}
	if final && r.Counts.RecordsInSegments == 0 {
		t.Fatalf("%s: no record reached a segment", when)
	}
	t.Logf("%s: %d records, %d in %d segments", when, r.Counts.Records, r.Counts.RecordsInSegments, r.Counts.Segments)
	// The archive signs at start, at once after a new log's first ingest,
	// then every second and on a clean shutdown: only a kill between a new
	// archive's first commit and that first signing leaves leaves no
	// checkpoint signs yet, and the next start signs them. Anything else is
	// damage.
	unsigned := false
	for _, p := range r.Problems {
		unsigned = unsigned || p.Kind == verify.KindCheckpointMissing
	}
	if !final && unsigned && len(r.Problems) == 1 {
		st.killsBeforeCheckpoint++
		r.Problems = nil
	}
	if !r.OK() {
		var b strings.Builder
		_ = r.WriteText(&b)
		t.Fatalf("%s: verify found problems:\n%s", when, b.String())
	}
	c := r.Counts
	if c.Records != c.RecordLeaves || c.PurgedRecords != 0 || c.Leaves != c.RecordLeaves+c.AuditLeaves || c.AuditEvents != c.AuditLeaves {
		t.Fatalf("%s: verify counts %+v", when, c)
	}
	if final {
		if want := uint64(len(st.batches) * crashBatchSize); c.Records != want {
			t.Fatalf("%s: verify saw %d records, want %d", when, c.Records, want)
		}
		if r.Checkpoint == nil || r.Checkpoint.Size != c.Leaves {
			t.Fatalf("%s: after a clean shutdown the newest checkpoint %+v should sign all %d leaves", when, r.Checkpoint, c.Leaves)
		}
	}
}

// checkAPI lists the account's records page by page as the operator can,
// and compares them and the statistics with what was acknowledged.
func checkAPI(t *testing.T, client *http.Client, base string, st *crashState) {
	t.Helper()
	seen := map[string]bool{}
	ids := map[string]bool{}
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("listing does not end")
		}
		v := url.Values{"account": {crashAccount}, "limit": {"500"}}
		if after != "" {
			v.Set("after", after)
		}
		var page api.ListResponse
		getJSON(t, client, base+"/v1/records?"+v.Encode(), &page)
		for _, r := range page.Records {
			if seen[r.Record.DedupKey] || ids[r.Record.ID] {
				t.Fatalf("the listing returns record %s (dedup key %s) twice", r.Record.ID, r.Record.DedupKey)
			}
			seen[r.Record.DedupKey], ids[r.Record.ID] = true, true
			if st.byKey[r.Record.DedupKey] == nil {
				t.Fatalf("the listing returns record %s that no writer sent", r.Record.NativeID)
			}
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	for _, b := range st.batches {
		for i, k := range b.keys {
			if !seen[k] {
				t.Fatalf("record %d of acknowledged batch %s is not listed", i, b.name)
			}
		}
	}
	var stats store.AccountStats
	getJSON(t, client, base+"/v1/accounts/"+crashAccount+"/stats", &stats)
	if stats.MessagesCaptured != int64(len(seen)) || len(seen) != len(st.batches)*crashBatchSize {
		t.Fatalf("stats say %d messages, the listing has %d, the writers sent %d", stats.MessagesCaptured, len(seen), len(st.batches)*crashBatchSize)
	}
}

func getJSON(t *testing.T, client *http.Client, u string, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+crashAdminToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// buildVigil builds the binary once for this test.
func buildVigil(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vigil")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd")
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building vigil: %v\n%s", err, out)
	}
	return bin
}

// segmentsDirOf is where a crash test archive keeps its segments.
func segmentsDirOf(dataDir string) string { return filepath.Join(filepath.Dir(dataDir), "segments") }

// startArchive starts `vigil archive` in its own process group on a free
// loopback port and waits until /readyz answers.
func startArchive(t *testing.T, bin, dataDir, tokens, logPath string) *crashArchive {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	// The WORM copy ships every 200 ms, so kills land mid-shipment too.
	cmd := exec.Command(bin, "archive", "--data-dir", dataDir, "--listen", addr, "--auth=static",
		"--static-tokens-file", tokens, "--admin-subject", crashAdmin, "--log-format", "text",
		"--segments=fs", "--segments-dir", segmentsDirOf(dataDir), "--segments-interval", "200ms", "--worm-retention", "1h")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &crashArchive{cmd: cmd, url: "http://" + addr, done: make(chan error, 1), log: logPath}
	go func() { a.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-a.done
	})
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	for deadline := time.Now().Add(crashReadyWithin); ; {
		select {
		case err := <-a.done:
			a.done <- err
			t.Fatalf("the archive exited before it was ready: %v\n%s", err, tail(logPath))
		default:
		}
		if resp, err := client.Get(a.url + "/readyz"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the archive was not ready within %s\n%s", crashReadyWithin, tail(logPath))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill SIGKILLs the archive's whole process group and waits for it to die.
func (a *crashArchive) kill(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the archive: %v", err)
	}
	err := <-a.done
	a.done <- err
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("the archive ended on its own before the kill (%v)\n%s", err, tail(a.log))
	}
}

// stop shuts the archive down cleanly, as Kubernetes would.
func (a *crashArchive) stop(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.done:
		a.done <- err
		if err != nil {
			t.Fatalf("the archive did not shut down cleanly: %v\n%s", err, tail(a.log))
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the archive did not stop within 30s of SIGTERM\n%s", tail(a.log))
	}
}

func readVerifierKey(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, sqlite.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// tail is the end of a log file, for failure messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
