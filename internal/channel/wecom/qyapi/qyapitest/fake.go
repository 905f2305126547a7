// Package qyapitest is an httptest fake of the WeCom server API that follows
// the published request and response formats: /cgi-bin/gettoken and the
// msgaudit side APIs of the chat archive. Other channels add their own paths
// with Handle.
package qyapitest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi"
)

// WeCom error codes the fake answers with.
const (
	CodeInvalidCorpID      = 40013
	CodeInvalidCredential  = qyapi.CodeInvalidCredential
	CodeInvalidAccessToken = qyapi.CodeInvalidAccessToken
	CodeTokenExpired       = qyapi.CodeTokenExpired
	CodeMissingToken       = 41001
	CodeInvalidParameter   = 40058
	CodeBadJSON            = 47001
)

// HandlerFunc answers a POST body (nil for GET) with a value encoded as the
// JSON response (errcode 0 is added when the value has none), or an error:
// an *qyapi.APIError becomes {"errcode","errmsg"}, anything else HTTP 500.
type HandlerFunc func(body []byte) (any, error)

// Fake is the fake WeCom API for one corp. Create it with New or Start.
type Fake struct {
	// URL is the base URL of the server Start started.
	URL string

	corpID string
	secret string

	mu       sync.Mutex
	tokenTTL time.Duration
	tokens   map[string]time.Time
	issued   int
	calls    map[string]int
	handlers map[string]HandlerFunc
	failNext map[string][]*qyapi.APIError
	permit   map[int][]string
	single   map[[2]string]AgreeInfo
	rooms    map[string][]AgreeInfo
	groups   map[string]GroupChat
	now      func() time.Time
}

// AgreeInfo is one element of a check_*_agree answer.
type AgreeInfo struct {
	StatusChangeTime int64  `json:"status_change_time"`
	UserID           string `json:"userid,omitempty"`
	ExternalOpenID   string `json:"exteranalopenid"`
	// AgreeStatus is "Agree", "Disagree" or "Default_Agree".
	AgreeStatus string `json:"agree_status"`
}

// GroupMember is one member of a groupchat/get answer.
type GroupMember struct {
	MemberID string `json:"memberid"`
	JoinTime int64  `json:"jointime"`
}

// GroupChat is a groupchat/get answer.
type GroupChat struct {
	RoomName       string        `json:"roomname"`
	Creator        string        `json:"creator"`
	RoomCreateTime int64         `json:"room_create_time"`
	Notice         string        `json:"notice"`
	Members        []GroupMember `json:"members"`
}

// New returns the fake as an http.Handler without starting a server.
func New(corpID, secret string) *Fake {
	f := &Fake{
		corpID:   corpID,
		secret:   secret,
		tokenTTL: 7200 * time.Second,
		tokens:   map[string]time.Time{},
		calls:    map[string]int{},
		handlers: map[string]HandlerFunc{},
		failNext: map[string][]*qyapi.APIError{},
		permit:   map[int][]string{},
		single:   map[[2]string]AgreeInfo{},
		rooms:    map[string][]AgreeInfo{},
		groups:   map[string]GroupChat{},
		now:      time.Now,
	}
	f.handlers["/cgi-bin/msgaudit/get_permit_user_list"] = f.permitUserList
	f.handlers["/cgi-bin/msgaudit/check_single_agree"] = f.checkSingleAgree
	f.handlers["/cgi-bin/msgaudit/check_room_agree"] = f.checkRoomAgree
	f.handlers["/cgi-bin/msgaudit/groupchat/get"] = f.groupChatGet
	return f
}

// Start serves a new fake on a loopback httptest server closed at the end
// of the test; its base URL is f.URL.
func Start(tb testing.TB, corpID, secret string) *Fake {
	tb.Helper()
	f := New(corpID, secret)
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Handle adds or replaces the handler of path (e.g. "/cgi-bin/kf/sync_msg").
// The access token is checked before h runs.
func (f *Fake) Handle(path string, h HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[path] = h
}

// SetTokenTTL sets expires_in for tokens issued from now on.
func (f *Fake) SetTokenTTL(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenTTL = d
}

// ExpireTokens makes every token issued so far answer 42001.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	past := f.now().Add(-time.Second)
	for t := range f.tokens {
		f.tokens[t] = past
	}
}

// TokensIssued counts successful gettoken calls.
func (f *Fake) TokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued
}

// Calls counts requests to path, including refused ones.
func (f *Fake) Calls(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

// FailNext makes the next call to path (after the token check) answer with
// errcode code; calls queue.
func (f *Fake) FailNext(path string, code int, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[path] = append(f.failNext[path], &qyapi.APIError{Code: code, Msg: msg})
}

// SetPermitUsers sets the ids get_permit_user_list returns for a type
// (1 office, 2 service, 3 enterprise; type 0 = all, as the API does when
// no type is given).
func (f *Fake) SetPermitUsers(typ int, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.permit[typ] = append([]string(nil), ids...)
}

// SetSingleAgree records the consent state of an external contact towards
// a member.
func (f *Fake) SetSingleAgree(info AgreeInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.single[[2]string{info.UserID, info.ExternalOpenID}] = info
}

// SetRoomAgree sets the consent states of a room's external members.
func (f *Fake) SetRoomAgree(roomID string, infos ...AgreeInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rooms[roomID] = append([]AgreeInfo(nil), infos...)
}

// SetGroupChat sets what groupchat/get answers for a room.
func (f *Fake) SetGroupChat(roomID string, g GroupChat) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups[roomID] = g
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls[r.URL.Path]++
	f.mu.Unlock()
	if r.URL.Path == "/cgi-bin/gettoken" {
		f.getToken(w, r)
		return
	}
	if code, msg := f.checkToken(r.URL.Query().Get("access_token")); code != 0 {
		writeJSON(w, map[string]any{"errcode": code, "errmsg": msg})
		return
	}
	f.mu.Lock()
	h := f.handlers[r.URL.Path]
	var fail *qyapi.APIError
	if q := f.failNext[r.URL.Path]; len(q) > 0 {
		fail, f.failNext[r.URL.Path] = q[0], q[1:]
	}
	f.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	if fail != nil {
		writeJSON(w, map[string]any{"errcode": fail.Code, "errmsg": fail.Msg})
		return
	}
	var body []byte
	if r.Method == http.MethodPost {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		body = b
	}
	resp, err := h(body)
	if err != nil {
		var ae *qyapi.APIError
		if errors.As(err, &ae) {
			writeJSON(w, map[string]any{"errcode": ae.Code, "errmsg": ae.Msg})
			return
		}
		http.Error(w, "handler failed", http.StatusInternalServerError)
		return
	}
	writeJSON(w, withOK(resp))
}

func (f *Fake) getToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("corpid") != f.corpID {
		writeJSON(w, map[string]any{"errcode": CodeInvalidCorpID, "errmsg": "invalid corpid"})
		return
	}
	if q.Get("corpsecret") != f.secret {
		writeJSON(w, map[string]any{"errcode": CodeInvalidCredential, "errmsg": "invalid credential"})
		return
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	f.mu.Lock()
	ttl := f.tokenTTL
	f.tokens[tok] = f.now().Add(ttl)
	f.issued++
	f.mu.Unlock()
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": int64(ttl / time.Second)})
}

func (f *Fake) checkToken(tok string) (int, string) {
	if tok == "" {
		return CodeMissingToken, "access_token missing"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.tokens[tok]
	switch {
	case !ok:
		return CodeInvalidAccessToken, "invalid access_token"
	case !f.now().Before(exp):
		return CodeTokenExpired, "access_token expired"
	}
	return 0, ""
}

func badJSON() error { return &qyapi.APIError{Code: CodeBadJSON, Msg: "data format error"} }

func (f *Fake) permitUserList(body []byte) (any, error) {
	var req struct {
		Type int `json:"type"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, badJSON()
		}
	}
	if req.Type < 0 || req.Type > 3 {
		return nil, &qyapi.APIError{Code: CodeInvalidParameter, Msg: "invalid type"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	if req.Type == 0 {
		seen := map[string]bool{}
		for t := 0; t <= 3; t++ {
			for _, id := range f.permit[t] {
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
	} else {
		ids = append(ids, f.permit[req.Type]...)
	}
	if ids == nil {
		ids = []string{}
	}
	return map[string]any{"ids": ids}, nil
}

func (f *Fake) checkSingleAgree(body []byte) (any, error) {
	var req struct {
		Info []struct {
			UserID         string `json:"userid"`
			ExternalOpenID string `json:"exteranalopenid"`
		} `json:"info"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, badJSON()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []AgreeInfo{}
	for _, in := range req.Info {
		if a, ok := f.single[[2]string{in.UserID, in.ExternalOpenID}]; ok {
			out = append(out, a)
		}
	}
	return map[string]any{"agreeinfo": out}, nil
}

func (f *Fake) checkRoomAgree(body []byte) (any, error) {
	var req struct {
		RoomID string `json:"roomid"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.RoomID == "" {
		return nil, badJSON()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]AgreeInfo{}, f.rooms[req.RoomID]...)
	for i := range out {
		out[i].UserID = ""
	}
	return map[string]any{"agreeinfo": out}, nil
}

func (f *Fake) groupChatGet(body []byte) (any, error) {
	var req struct {
		RoomID string `json:"roomid"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.RoomID == "" {
		return nil, badJSON()
	}
	f.mu.Lock()
	g, ok := f.groups[req.RoomID]
	f.mu.Unlock()
	if !ok {
		return nil, &qyapi.APIError{Code: CodeInvalidParameter, Msg: "invalid roomid"}
	}
	if g.Members == nil {
		g.Members = []GroupMember{}
	}
	return g, nil
}

// withOK adds errcode 0 and errmsg "ok" to a response value.
func withOK(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return map[string]any{"errcode": 0, "errmsg": "ok"}
	}
	m := map[string]json.RawMessage{}
	if json.Unmarshal(raw, &m) != nil {
		return v
	}
	if _, ok := m["errcode"]; !ok {
		m["errcode"] = json.RawMessage("0")
	}
	if _, ok := m["errmsg"]; !ok {
		m["errmsg"] = json.RawMessage(`"ok"`)
	}
	return m
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
