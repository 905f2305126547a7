package wecomarchive

import (
	"context"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi"
)

// msgaudit HTTP API paths (access token from the corp id and archive secret).
const (
	pathPermitUserList = "/cgi-bin/msgaudit/get_permit_user_list"
	pathGroupChatGet   = "/cgi-bin/msgaudit/groupchat/get"
	pathCheckAgree     = "/cgi-bin/msgaudit/check_single_agree"
	pathCheckRoomAgree = "/cgi-bin/msgaudit/check_room_agree"
)

const (
	roomNameTTL    = time.Hour
	maxRoomLookups = 50 // per batch, so a pull is never held up long
	// agreeTTL is how long a checked (member, external contact) pair is not
	// asked about again; agree and disagree messages in the archive itself
	// report changes as they happen.
	agreeTTL = 24 * time.Hour
	// maxAgreePairs bounds one check_single_agree call and one batch.
	maxAgreePairs      = 100
	msgAuditCallTimout = 5 * time.Second
)

// msgAudit calls the archive's side APIs: who is archived, and room names.
// Their failures are logged and never stop capture.
type msgAudit struct {
	api     *qyapi.Client
	log     logr.Logger
	metrics *metrics
	now     func() time.Time

	mu         sync.Mutex
	rooms      map[string]roomEntry
	agreed     map[agreePair]time.Time
	roomAgreed map[string]time.Time
}

// agreePair is an internal member and an external contact they chat with.
type agreePair struct{ userID, externalID string }

// agreeInfo is one element of check_single_agree's answer. The vendor's
// field name is misspelt "exteranalopenid".
type agreeInfo struct {
	StatusChangeTime int64  `json:"status_change_time"`
	UserID           string `json:"userid"`
	ExternalID       string `json:"exteranalopenid"`
	AgreeStatus      string `json:"agree_status"`
}

type roomEntry struct {
	name string
	at   time.Time
}

func newMsgAudit(api *qyapi.Client, log logr.Logger, m *metrics, now func() time.Time) *msgAudit {
	return &msgAudit{api: api, log: log, metrics: m, now: now, rooms: map[string]roomEntry{}, agreed: map[agreePair]time.Time{},
		roomAgreed: map[string]time.Time{}}
}

// refreshPermitList counts the members with archiving on.
func (a *msgAudit) refreshPermitList(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, msgAuditCallTimout)
	defer cancel()
	var resp struct {
		IDs []string `json:"ids"`
	}
	if err := a.api.Post(ctx, pathPermitUserList, struct{}{}, &resp); err != nil {
		a.log.Error(err, "get_permit_user_list failed")
		return
	}
	a.metrics.permitUsers.Set(float64(len(resp.IDs)))
	a.log.Info("archive permit list", "members", len(resp.IDs))
}

// roomNames returns the names of the rooms given (cached for an hour,
// failures cached too); at most maxRoomLookups calls are made.
func (a *msgAudit) roomNames(ctx context.Context, roomIDs []string) map[string]string {
	out := map[string]string{}
	now := a.now()
	lookups := 0
	for _, id := range roomIDs {
		a.mu.Lock()
		e, ok := a.rooms[id]
		a.mu.Unlock()
		if ok && now.Sub(e.at) < roomNameTTL {
			if e.name != "" {
				out[id] = e.name
			}
			continue
		}
		if lookups == maxRoomLookups {
			continue
		}
		lookups++
		name := a.groupChatName(ctx, id)
		a.mu.Lock()
		a.rooms[id] = roomEntry{name: name, at: now}
		a.mu.Unlock()
		if name != "" {
			out[id] = name
		}
	}
	return out
}

func (a *msgAudit) groupChatName(ctx context.Context, roomID string) string {
	ctx, cancel := context.WithTimeout(ctx, msgAuditCallTimout)
	defer cancel()
	var resp struct {
		RoomName string `json:"roomname"`
	}
	if err := a.api.Post(ctx, pathGroupChatGet, map[string]string{"roomid": roomID}, &resp); err != nil {
		// External groups are not served by this API; that is expected.
		a.log.V(1).Info("groupchat/get failed", "error", err.Error())
		return ""
	}
	return resp.RoomName
}

// agreements asks check_single_agree whether the external contacts of the
// pairs given agreed to archiving, for pairs not asked within agreeTTL.
// Answers become consent records, so the archive shows the consent each
// captured external conversation rested on.
func (a *msgAudit) agreements(ctx context.Context, pairs []agreePair) []agreeInfo {
	now := a.now()
	var ask []agreePair
	a.mu.Lock()
	for _, p := range pairs {
		if at, ok := a.agreed[p]; ok && now.Sub(at) < agreeTTL {
			continue
		}
		if len(ask) == maxAgreePairs {
			break
		}
		ask = append(ask, p)
	}
	a.mu.Unlock()
	if len(ask) == 0 {
		return nil
	}
	type info struct {
		UserID     string `json:"userid"`
		ExternalID string `json:"exteranalopenid"`
	}
	req := struct {
		Info []info `json:"info"`
	}{}
	for _, p := range ask {
		req.Info = append(req.Info, info{UserID: p.userID, ExternalID: p.externalID})
	}
	var resp struct {
		AgreeInfo []agreeInfo `json:"agreeinfo"`
	}
	callCtx, cancel := context.WithTimeout(ctx, msgAuditCallTimout)
	defer cancel()
	if err := a.api.Post(callCtx, pathCheckAgree, req, &resp); err != nil {
		// Not remembered: the next batch asks again.
		a.log.Error(err, "check_single_agree failed", "pairs", len(ask))
		return nil
	}
	a.mu.Lock()
	for _, p := range ask {
		a.agreed[p] = now
	}
	a.mu.Unlock()
	return resp.AgreeInfo
}

// roomAgreements asks check_room_agree, for rooms with external members not
// asked within agreeTTL (at most maxRoomLookups per batch), which external
// members agreed to archiving. The answers carry no member: the consent is
// the room's.
func (a *msgAudit) roomAgreements(ctx context.Context, roomIDs []string) map[string][]agreeInfo {
	now := a.now()
	out := map[string][]agreeInfo{}
	for i, room := range roomIDs {
		if i == maxRoomLookups {
			break
		}
		a.mu.Lock()
		at, ok := a.roomAgreed[room]
		a.mu.Unlock()
		if ok && now.Sub(at) < agreeTTL {
			continue
		}
		var resp struct {
			AgreeInfo []agreeInfo `json:"agreeinfo"`
		}
		callCtx, cancel := context.WithTimeout(ctx, msgAuditCallTimout)
		err := a.api.Post(callCtx, pathCheckRoomAgree, map[string]string{"roomid": room}, &resp)
		cancel()
		if err != nil {
			a.log.Error(err, "check_room_agree failed")
			continue
		}
		a.mu.Lock()
		a.roomAgreed[room] = now
		a.mu.Unlock()
		out[room] = resp.AgreeInfo
	}
	return out
}
