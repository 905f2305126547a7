package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/api"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// maxServedBody bounds one response: a page of leaves is at most
// store.MaxListLimit short JSON lines.
const maxServedBody = 16 << 20

// ServedOptions say which served archive to verify.
type ServedOptions struct {
	// URL is the archive's base URL (https://archive.example.com).
	URL string
	// Token is the bearer token of an identity allowed to read the log.
	Token string
	// Verifier is the pinned checkpoint key; required, because a key
	// fetched from the server proves nothing about the server.
	Verifier *tlog.Verifier
	// PreviousCheckpoint is a signed checkpoint kept from an earlier run.
	PreviousCheckpoint []byte
	PreviousSource     string
	// Client makes the requests; nil uses one with a timeout.
	Client *http.Client
}

// Served verifies a running archive through its log endpoints: the served
// key is the pinned one, the checkpoint verifies, every served leaf is a
// canonical leaf and together they hash to the checkpoint's root, and with a
// previous checkpoint, both the recomputed root at its size and the server's
// consistency proof show the log only grew. The server's tables cannot be
// seen from outside; a data-folder run checks those.
func Served(ctx context.Context, opts ServedOptions) (*Report, error) {
	if opts.Verifier == nil {
		return nil, fmt.Errorf("verifying a served archive needs a pinned verifier key")
	}
	c := &servedClient{base: strings.TrimSuffix(opts.URL, "/"), token: opts.Token, http: opts.Client}
	if c.http == nil {
		c.http = &http.Client{Timeout: time.Minute}
	}
	r := &Report{Source: opts.URL, Verifier: opts.Verifier.String(), Problems: []Problem{}, Notes: []string{}}
	if u, err := url.Parse(opts.URL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("the archive URL %q is not an absolute URL", opts.URL)
	} else if u.Scheme != "https" {
		r.note("the archive was reached over %s, not https: the token and the answers were not protected in transit", u.Scheme)
	}

	served, err := c.get(ctx, "/v1/log/verifier")
	if err != nil {
		return nil, err
	}
	if got := strings.TrimSpace(string(served)); got != opts.Verifier.String() {
		r.problem(KindServedVerifier, "/v1/log/verifier", "the archive serves key %q, not the pinned %q", got, opts.Verifier.String())
	}
	note, err := c.get(ctx, "/v1/log/checkpoint")
	if err != nil {
		return nil, err
	}
	cp, _, err := tlog.OpenCheckpoint(note, opts.Verifier.Name(), []*tlog.Verifier{opts.Verifier})
	if err != nil {
		// Without a checkpoint we trust, there is no size or root to check the leaves against.
		r.problem(KindCheckpointSignature, "/v1/log/checkpoint", "does not verify with the pinned key: %v", err)
		return r, nil
	}
	r.Counts.Checkpoints = 1

	log := &logView{}
	for log.tree.Size() < cp.Size {
		start := log.tree.Size()
		page, err := c.get(ctx, fmt.Sprintf("/v1/log/leaves?start=%d&count=%d", start, min(cp.Size-start, store.MaxListLimit)))
		if err != nil {
			return nil, err
		}
		lines := bytes.Split(bytes.TrimSuffix(page, []byte("\n")), []byte("\n"))
		if len(page) == 0 {
			lines = nil
		}
		if len(lines) == 0 {
			r.problem(KindServedLeaves, fmt.Sprintf("/v1/log/leaves?start=%d", start), "the checkpoint signs %d leaves but the server serves only %d", cp.Size, start)
			break
		}
		for i, body := range lines {
			if log.tree.Size() == cp.Size {
				break
			}
			log.add(r, fmt.Sprintf("leaf %d", start+uint64(i)), body)
		}
	}
	leavesOK := checkRootAt(r, KindCheckpointRoot, "/v1/log/checkpoint", cp, log)
	if leavesOK {
		r.Checkpoint, r.NewestNote = summarize(cp), note
	}
	if err := checkServedTiles(ctx, c, r, opts.Verifier, cp, log, leavesOK); err != nil {
		return nil, err
	}
	if opts.PreviousCheckpoint != nil {
		if err := checkServedPrevious(ctx, c, r, opts, cp, log); err != nil {
			return nil, err
		}
	}
	r.note("served mode checks the log only: records, audit events and purge certificates are checked against it by a data-folder run")
	return r, nil
}

// checkServedPrevious checks that the current checkpoint extends the kept
// one twice over: by the leaves just rehashed, and by the server's own
// consistency proof, which a third party can check without the leaves.
func checkServedPrevious(ctx context.Context, c *servedClient, r *Report, opts ServedOptions, cp tlog.Checkpoint, log *logView) error {
	where := "previous checkpoint " + opts.PreviousSource
	prev, ok := checkPrevious(r, where, opts.PreviousCheckpoint, opts.Verifier, log)
	if !ok || prev.Size > cp.Size {
		return nil
	}
	body, err := c.get(ctx, fmt.Sprintf("/v1/log/proof/consistency?from=%d&to=%d", prev.Size, cp.Size))
	if err != nil {
		return err
	}
	var proof api.ConsistencyProofResponse
	if err := json.Unmarshal(body, &proof); err != nil {
		r.problem(KindPreviousCheckpoint, where, "the server's consistency proof is not readable: %v", err)
		return nil
	}
	if err := tlog.VerifyConsistency(prev.Size, cp.Size, proof.Proof, prev.Root, cp.Root); err != nil {
		r.problem(KindPreviousCheckpoint, where, "the server's consistency proof from size %d to %d does not verify: %v", prev.Size, cp.Size, err)
		return nil
	}
	r.note("the log extends the previous checkpoint (size %d): recomputed and proved", prev.Size)
	return nil
}

type servedClient struct {
	base, token string
	http        *http.Client
}

// get fetches a path; any failure to get a 200 answer stops verification.
func (c *servedClient) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("while preparing GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("while fetching %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxServedBody))
	if err != nil {
		return nil, fmt.Errorf("while reading %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}
