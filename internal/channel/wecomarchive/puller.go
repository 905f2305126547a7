package wecomarchive

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// errKeyMissing stops the pull at a message wrapped for a publickey_ver
// the key ring lacks: adding that key (within the 5-day window) recovers
// it, skipping it would lose it for good.
var errKeyMissing = errors.New("no private key for the message's publickey_ver; add it to the privateKeys credential")

// Run implements connector.Channel: pull on start, then every poll
// interval or when Notify is called, until ctx ends.
func (c *Channel) Run(ctx context.Context, sink connector.Sink) error {
	defer func() {
		if err := c.sdk.Close(); err != nil {
			c.log.Error(err, "closing the finance sdk")
		}
	}()
	var nextPermit time.Time
	for {
		if c.audit != nil && !c.now().Before(nextPermit) {
			c.audit.refreshPermitList(ctx)
			nextPermit = c.now().Add(c.permitEvery)
		}
		wait := c.pollInterval
		if err := c.pullAll(ctx, sink); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			wait = c.retry.next()
			c.log.Error(err, "archive pull failed", "cursor", c.state.Seq, "retryIn", wait.String())
		} else {
			c.retry.reset()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-c.notify:
			t.Stop()
		}
	}
}

// pullAll pulls batches until the archive is caught up, then writes a
// checkpoint when one is due.
func (c *Channel) pullAll(ctx context.Context, sink connector.Sink) error {
	for {
		caughtUp, err := c.pullBatch(ctx, sink)
		if err != nil {
			return err
		}
		if caughtUp {
			break
		}
	}
	now := c.now()
	if now.Sub(c.state.LastCheckpoint) < c.checkpoint {
		return nil
	}
	rec := c.checkpointRecord(c.state.Seq, now)
	if err := sink.Capture(ctx, []*capture.Record{rec}); err != nil {
		return fmt.Errorf("capture checkpoint: %w", err)
	}
	c.metrics.records.Inc()
	next := c.state
	next.LastCheckpoint = now
	return c.commit(next)
}

// pullBatch makes one GetChatData call and captures what it returns. The
// cursor moves only after the sink has accepted the records, so a crash
// in between pulls them again and the archive's dedupe absorbs them.
func (c *Channel) pullBatch(ctx context.Context, sink connector.Sink) (caughtUp bool, err error) {
	if err := c.limiter.wait(ctx); err != nil {
		return false, err
	}
	body, err := c.sdk.GetChatData(ctx, c.state.Seq, c.pullLimit)
	if err != nil {
		return false, c.pullFailed(ctx, sink, err)
	}
	cds, err := ParseChatData(body)
	if err != nil {
		c.metrics.pulls.WithLabelValues(resultError).Inc()
		return false, err
	}
	recs, last, newest, procErr := c.process(ctx, cds)
	if len(recs) > 0 {
		if err := sink.Capture(ctx, recs); err != nil {
			c.metrics.pulls.WithLabelValues(resultSinkError).Inc()
			return false, fmt.Errorf("capture %d archive records: %w", len(recs), err)
		}
		c.metrics.records.Add(float64(len(recs)))
	}
	now := c.now()
	caughtUp = procErr == nil && (len(cds) < c.pullLimit || last == c.state.Seq)
	next := c.state
	next.Seq = last
	if caughtUp {
		next.CaughtUpAt = now
	}
	if next != c.state {
		if err := c.commit(next); err != nil {
			return false, err
		}
	}
	if procErr != nil {
		if errors.Is(procErr, errKeyMissing) {
			c.metrics.pulls.WithLabelValues(resultKeyMissing).Inc()
		} else {
			c.metrics.pulls.WithLabelValues(resultRetryable).Inc()
		}
		return false, procErr
	}
	c.expiredMarked = false
	c.metrics.pulls.WithLabelValues(resultOK).Inc()
	c.metrics.lastPull.Set(float64(now.UnixNano()) / 1e9)
	switch {
	case caughtUp:
		c.metrics.setOldestUnpulled(now)
	case !newest.IsZero():
		c.metrics.setOldestUnpulled(newest)
	}
	return caughtUp, nil
}

// pullFailed counts a failed GetChatData and, for 10010, records the gap
// (once per cursor).
func (c *Channel) pullFailed(ctx context.Context, sink connector.Sink, err error) error {
	switch {
	case SDKErrorCode(err) == SDKErrDataExpired:
		c.metrics.pulls.WithLabelValues(resultDataExpired).Inc()
		if c.expiredMarked && c.expiredAt == c.state.Seq {
			return err
		}
		rec := c.expiredGapRecord(c.state.Seq, c.now())
		if cerr := sink.Capture(ctx, []*capture.Record{rec}); cerr != nil {
			return fmt.Errorf("%w; capturing the gap record: %w", err, cerr)
		}
		c.expiredMarked, c.expiredAt = true, c.state.Seq
		c.metrics.records.Inc()
		c.metrics.gaps.Inc()
		c.log.Error(err, "archive data expired before it was pulled; gap recorded", "cursor", c.state.Seq)
	case IsRetryable(err):
		c.metrics.pulls.WithLabelValues(resultRetryable).Inc()
	default:
		c.metrics.pulls.WithLabelValues(resultError).Inc()
	}
	return err
}

// process turns chatdata elements into records: gap records for seq
// discontinuities, one record per message, media hashed. It stops at the
// first element it must retry (retryable SDK error, missing key version)
// and returns the records before it with the last seq they cover.
func (c *Channel) process(ctx context.Context, cds []ChatData) (recs []*capture.Record, last uint64, newest time.Time, err error) {
	sort.SliceStable(cds, func(i, j int) bool { return cds[i].Seq < cds[j].Seq })
	last = c.state.Seq
	// Drop duplicates and what is already captured before the costly part.
	fresh := cds[:0:0]
	for _, cd := range cds {
		if cd.Seq > last && (len(fresh) == 0 || cd.Seq > fresh[len(fresh)-1].Seq) {
			fresh = append(fresh, cd)
		}
	}
	keys := unwrapAll(c.ring, fresh)
	now := c.now()
	var rooms []string
	roomSeen := map[string]bool{}
	var pairs []agreePair
	pairSeen := map[agreePair]bool{}
	// Rooms with an external member, whose consent check_room_agree reports.
	var externalRooms []string
	externalRoomSeen := map[string]bool{}
	for i, cd := range fresh {
		if last != 0 && cd.Seq > last+1 {
			recs = append(recs, c.seqGapRecord(last+1, cd.Seq-1, now))
			c.metrics.gaps.Inc()
			c.log.Info("archive seq gap recorded", "from", last+1, "to", cd.Seq-1)
		}
		key, uerr := keys[i].key, keys[i].err
		if errors.Is(uerr, wxcrypt.ErrNoKeyForVersion) {
			err = fmt.Errorf("seq %d publickey_ver %d: %w", cd.Seq, cd.PublicKeyVer, errKeyMissing)
			break
		}
		if uerr != nil {
			recs = append(recs, c.undecryptableRecord(cd, uerr.Error(), now))
			last = cd.Seq
			continue
		}
		plain, derr := c.sdk.DecryptData(key, cd.EncryptChatMsg)
		if derr != nil {
			if IsRetryable(derr) || ctx.Err() != nil {
				err = fmt.Errorf("seq %d: %w", cd.Seq, derr)
				break
			}
			recs = append(recs, c.undecryptableRecord(cd, derr.Error(), now))
			last = cd.Seq
			continue
		}
		rec, refs := mapMessage(plain, pullMeta{corpID: c.corpID, seq: cd.Seq, keyVer: cd.PublicKeyVer, msgID: cd.MsgID, now: now})
		if ferr := c.fetchMedia(ctx, rec, refs); ferr != nil {
			err = ferr
			break
		}
		if p, ok := externalPair(rec); ok && !pairSeen[p] {
			pairSeen[p] = true
			pairs = append(pairs, p)
		}
		if rec.Conversation.Type == "group" && rec.Conversation.ID != "" && !externalRoomSeen[rec.Conversation.ID] && hasExternal(rec) {
			externalRoomSeen[rec.Conversation.ID] = true
			externalRooms = append(externalRooms, rec.Conversation.ID)
		}
		if rec.Conversation.Type == "group" && rec.Conversation.ID != "" && !roomSeen[rec.Conversation.ID] {
			roomSeen[rec.Conversation.ID] = true
			rooms = append(rooms, rec.Conversation.ID)
		}
		if rec.SentAt != now && rec.SentAt.After(newest) {
			newest = rec.SentAt
		}
		recs = append(recs, rec)
		last = cd.Seq
	}
	if c.audit != nil && len(externalRooms) > 0 {
		for room, answers := range c.audit.roomAgreements(ctx, externalRooms) {
			for _, a := range answers {
				if r := c.agreeCheckRecord(a, room, last, now); r != nil {
					recs = append(recs, r)
				}
			}
		}
	}
	if c.audit != nil && len(rooms) > 0 {
		names := c.audit.roomNames(ctx, rooms)
		for _, r := range recs {
			if n, ok := names[r.Conversation.ID]; ok && r.Conversation.Type == "group" {
				r.Conversation.Name = truncateConv(n)
			}
		}
	}
	if c.audit != nil && len(pairs) > 0 {
		for _, a := range c.audit.agreements(ctx, pairs) {
			if r := c.agreeCheckRecord(a, "", last, now); r != nil {
				recs = append(recs, r)
			}
		}
	}
	return recs, last, newest, err
}

// hasExternal reports whether an external contact took part in a message.
func hasExternal(rec *capture.Record) bool {
	if rec.Sender.Affiliation == capture.AffiliationExternal {
		return true
	}
	for _, p := range rec.Recipients {
		if p.Affiliation == capture.AffiliationExternal {
			return true
		}
	}
	return false
}

// externalPair is the (member, external contact) pair of a 1:1 message
// between the corp and a customer, whose consent check_single_agree reports.
func externalPair(rec *capture.Record) (agreePair, bool) {
	if rec.Kind != capture.KindMessage || rec.Conversation.Type != "direct" || len(rec.Recipients) != 1 {
		return agreePair{}, false
	}
	from, to := rec.Sender, rec.Recipients[0]
	switch {
	case from.Affiliation == capture.AffiliationInternal && to.Affiliation == capture.AffiliationExternal:
		return agreePair{userID: from.ID, externalID: to.ID}, true
	case from.Affiliation == capture.AffiliationExternal && to.Affiliation == capture.AffiliationInternal:
		return agreePair{userID: to.ID, externalID: from.ID}, true
	}
	return agreePair{}, false
}

// fetchMedia downloads a record's media and sets each attachment's state,
// size and SHA-256. The bytes are hashed and dropped: the archive has no
// blob store for them yet.
func (c *Channel) fetchMedia(ctx context.Context, rec *capture.Record, refs []mediaRef) error {
	for _, ref := range refs {
		res := c.media.fetch(ctx, ref)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a := &rec.Attachments[ref.index]
		a.State = res.state
		if res.size > 0 {
			a.Size = res.size
		}
		a.SHA256 = res.sha256
		c.metrics.media.WithLabelValues(res.state).Inc()
		if res.err != nil {
			c.log.Info("archive media not stored", "msgid", rec.NativeID, "state", res.state, "error", res.err.Error())
		}
	}
	return nil
}

// commit persists the state and publishes the cursor.
func (c *Channel) commit(next cursorState) error {
	if err := c.store.save(next); err != nil {
		return fmt.Errorf("persist archive cursor: %w", err)
	}
	c.state = next
	c.cursor.Store(next.Seq)
	c.metrics.cursor.Set(float64(next.Seq))
	return nil
}
