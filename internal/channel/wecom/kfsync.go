package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
)

// kf/sync_msg parameters (document/path/94670).
const (
	kfSyncPath = "/cgi-bin/kf/sync_msg"
	// kfSyncLimit is the largest page the API allows.
	kfSyncLimit = 1000
	// kfMaxPages stops a server that keeps saying has_more.
	kfMaxPages = 10_000
	// kfMaxAccounts bounds the customer-service accounts waiting for a sync.
	kfMaxAccounts = 1000
	// kfAttempts is how often one trigger's sync is tried; the event's token
	// is valid for 10 minutes.
	kfAttempts = 4
)

// kfPoster is the part of qyapi.Client the syncer uses.
type kfPoster interface {
	Post(ctx context.Context, path string, req, resp any) error
}

type syncMsgRequest struct {
	Cursor      string `json:"cursor,omitempty"`
	Token       string `json:"token,omitempty"`
	Limit       int    `json:"limit"`
	VoiceFormat int    `json:"voice_format"`
	OpenKfID    string `json:"open_kfid"`
}

type syncMsgResponse struct {
	NextCursor string            `json:"next_cursor"`
	HasMore    scalar            `json:"has_more"`
	MsgList    []json.RawMessage `json:"msg_list"`
}

func (r *syncMsgResponse) more() bool {
	return r.HasMore != "" && r.HasMore != "0" && r.HasMore != "false"
}

// kfSyncer pulls customer-service messages when callbacks say there are
// some. Pulls for one open_kfid are serialized (the cursor is a chain);
// triggers that arrive during a pull are coalesced into one more pull with
// the newest token.
type kfSyncer struct {
	api     kfPoster
	corpID  string
	cursors *cursorStore
	metrics *kfMetrics
	log     logr.Logger
	now     func() time.Time
	backoff time.Duration

	mu      sync.Mutex
	pending map[string]string // open_kfid -> newest token
	running map[string]bool
	ctx     context.Context
	sink    connector.Sink
	wg      sync.WaitGroup
}

func newKfSyncer(api kfPoster, corpID string, cursors *cursorStore, m *kfMetrics, log logr.Logger, now func() time.Time) *kfSyncer {
	return &kfSyncer{
		api: api, corpID: corpID, cursors: cursors, metrics: m, log: log, now: now, backoff: 2 * time.Second,
		pending: map[string]string{}, running: map[string]bool{},
	}
}

// trigger schedules a pull for openKfID and returns at once. Before Run
// starts it only queues.
func (s *kfSyncer) trigger(openKfID, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, queued := s.pending[openKfID]; !queued && !s.running[openKfID] && len(s.pending)+len(s.running) >= kfMaxAccounts {
		return inbound.Refuse(http.StatusServiceUnavailable, inbound.ReasonInternal,
			errors.New("too many customer-service accounts waiting for a sync; retry later"))
	}
	s.metrics.Events.Inc()
	s.pending[openKfID] = token
	s.startLocked(openKfID)
	return nil
}

// run starts the workers for what was queued and waits for ctx; then it
// waits for pulls in progress to stop.
func (s *kfSyncer) run(ctx context.Context, sink connector.Sink) {
	s.mu.Lock()
	s.ctx, s.sink = ctx, sink
	for id := range s.pending {
		s.startLocked(id)
	}
	s.mu.Unlock()
	<-ctx.Done()
	s.wg.Wait()
}

func (s *kfSyncer) startLocked(openKfID string) {
	if s.ctx == nil || s.running[openKfID] || s.ctx.Err() != nil {
		return
	}
	s.running[openKfID] = true
	s.wg.Add(1)
	go s.worker(openKfID)
}

func (s *kfSyncer) worker(openKfID string) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		token, ok := s.pending[openKfID]
		if !ok || s.ctx.Err() != nil {
			delete(s.running, openKfID)
			s.mu.Unlock()
			return
		}
		delete(s.pending, openKfID)
		ctx, sink := s.ctx, s.sink
		s.mu.Unlock()
		s.syncWithRetry(ctx, sink, openKfID, token)
	}
}

func (s *kfSyncer) syncWithRetry(ctx context.Context, sink connector.Sink, openKfID, token string) {
	wait := s.backoff
	for attempt := 1; ; attempt++ {
		n, err := s.sync(ctx, sink, openKfID, token)
		if err == nil {
			s.metrics.Syncs.WithLabelValues("ok").Inc()
			s.log.V(1).Info("customer-service sync done", "records", n)
			return
		}
		s.metrics.Syncs.WithLabelValues("error").Inc()
		if ctx.Err() != nil {
			return
		}
		if attempt >= kfAttempts {
			// Not lost: the cursor did not move, so the next callback's
			// sync starts from the same place (within the 3-day window).
			s.log.Error(err, "customer-service sync failed; will resume from the saved cursor on the next event", "attempts", attempt)
			return
		}
		s.log.Info("customer-service sync failed; retrying", "attempt", attempt, "error", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// sync pulls until has_more is false. Each page is handed to the sink, and
// only once the sink has it durably is next_cursor saved.
func (s *kfSyncer) sync(ctx context.Context, sink connector.Sink, openKfID, token string) (int, error) {
	cursor, err := s.cursors.load(openKfID)
	if err != nil {
		return 0, err
	}
	total := 0
	for page := 0; page < kfMaxPages; page++ {
		var resp syncMsgResponse
		req := syncMsgRequest{Cursor: cursor, Token: token, Limit: kfSyncLimit, VoiceFormat: 0, OpenKfID: openKfID}
		if err := s.api.Post(ctx, kfSyncPath, req, &resp); err != nil {
			return total, fmt.Errorf("kf/sync_msg: %w", err)
		}
		recs := kfRecords(resp.MsgList, kfBatch{corpID: s.corpID, openKfID: openKfID, cursor: cursor, receivedAt: s.now()})
		if len(recs) > 0 {
			if err := sink.Capture(ctx, recs); err != nil {
				return total, fmt.Errorf("storing %d customer-service records: %w", len(recs), err)
			}
			s.metrics.Messages.Add(float64(len(recs)))
			total += len(recs)
		}
		if resp.NextCursor != "" && resp.NextCursor != cursor {
			if err := s.cursors.save(openKfID, resp.NextCursor); err != nil {
				return total, err
			}
			cursor = resp.NextCursor
		} else if resp.more() {
			return total, errors.New("kf/sync_msg says has_more but did not advance the cursor")
		}
		if !resp.more() {
			return total, nil
		}
	}
	return total, fmt.Errorf("kf/sync_msg still has more after %d pages; stopping until the next event", kfMaxPages)
}

// kfRecords maps one page, dropping repeats of a msgid within it (the
// archive dedupes across pages by dedupKey).
func kfRecords(list []json.RawMessage, b kfBatch) []*capture.Record {
	recs := make([]*capture.Record, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, raw := range list {
		r := kfRecord(raw, b)
		if seen[r.DedupKey] {
			continue
		}
		seen[r.DedupKey] = true
		recs = append(recs, r)
	}
	return recs
}
