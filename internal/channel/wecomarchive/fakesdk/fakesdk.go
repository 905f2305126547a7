// Package fakesdk is a faithful fake of the WeCom Finance SDK for tests and
// `vigil dev`: it holds one corp's archive and serves GetChatData,
// DecryptData and GetMediaData the way the vendor's library does (messages
// from seq+1, limit ≤ 1000, encrypt_random_key wrapped with RSA PKCS#1 v1.5
// under the public key of publickey_ver, media in 512 KB chunks with
// outindexbuf tokens), and can inject seq gaps, duplicates, SDK errors and
// a one-off md5 mismatch. Its encrypt_chat_msg scheme is its own (see
// scheme.go): the vendor's is not public.
package fakesdk

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
)

// SDK is the fake. It is safe for concurrent use.
type SDK struct {
	mu      sync.Mutex
	keys    map[int]*rsa.PublicKey
	ver     int
	msgs    []element
	lastSeq uint64
	skip    uint64
	media   map[string][]byte
	rnd     io.Reader

	chatFail  []int
	mediaFail []int
	dupNext   bool
	corrupt   map[string]bool
	chatCalls int
	mediaCall int
	closed    bool
}

// element is one stored chatdata element, encrypted when added.
type element struct {
	Seq              uint64 `json:"seq"`
	MsgID            string `json:"msgid"`
	PublicKeyVer     int    `json:"publickey_ver"`
	EncryptRandomKey string `json:"encrypt_random_key"`
	EncryptChatMsg   string `json:"encrypt_chat_msg"`
}

var _ wecomarchive.ArchiveSDK = (*SDK)(nil)

// New returns an empty archive whose messages are wrapped for the public
// keys given, by publickey_ver; new messages use the highest version.
func New(keys map[int]*rsa.PublicKey) (*SDK, error) {
	if len(keys) == 0 {
		return nil, errors.New("fakesdk: at least one public key is needed")
	}
	s := &SDK{keys: map[int]*rsa.PublicKey{}, media: map[string][]byte{}, corrupt: map[string]bool{}, rnd: rand.Reader, ver: -1}
	for v, k := range keys {
		s.keys[v] = k
		if v > s.ver {
			s.ver = v
		}
	}
	return s, nil
}

// SetKeyVersion makes messages added from now on use publickey_ver v (the
// enterprise uploaded a new archive key).
func (s *SDK) SetKeyVersion(v int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[v]; !ok {
		return fmt.Errorf("fakesdk: no public key for version %d", v)
	}
	s.ver = v
	return nil
}

// AddMessage encrypts one decrypted-message JSON object and appends it with
// the next seq. The chatdata msgid is the message's msgid.
func (s *SDK) AddMessage(plain []byte) (uint64, error) {
	var head struct {
		MsgID string `json:"msgid"`
	}
	if err := json.Unmarshal(plain, &head); err != nil {
		return 0, fmt.Errorf("fakesdk: message is not JSON: %w", err)
	}
	if head.MsgID == "" {
		return 0, errors.New("fakesdk: message has no msgid")
	}
	var raw [16]byte
	if _, err := io.ReadFull(s.rnd, raw[:]); err != nil {
		return 0, fmt.Errorf("fakesdk: random key: %w", err)
	}
	encryptKey := []byte(hex.EncodeToString(raw[:]))
	msg, err := sealMessage(s.rnd, encryptKey, plain)
	if err != nil {
		return 0, fmt.Errorf("fakesdk: seal: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wrapped, err := rsa.EncryptPKCS1v15(s.rnd, s.keys[s.ver], encryptKey)
	if err != nil {
		return 0, fmt.Errorf("fakesdk: wrap key: %w", err)
	}
	s.lastSeq += 1 + s.skip
	s.skip = 0
	s.msgs = append(s.msgs, element{Seq: s.lastSeq, MsgID: head.MsgID, PublicKeyVer: s.ver,
		EncryptRandomKey: base64.StdEncoding.EncodeToString(wrapped), EncryptChatMsg: msg})
	return s.lastSeq, nil
}

// AddMessages adds several messages in order.
func (s *SDK) AddMessages(lines [][]byte) error {
	for i, l := range lines {
		if _, err := s.AddMessage(l); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return nil
}

// AddMedia stores a media file under its sdkfileid.
func (s *SDK) AddMedia(sdkFileID string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[sdkFileID] = append([]byte(nil), data...)
}

// SkipSeqs makes the next message's seq jump by n: a gap the puller must
// report.
func (s *SDK) SkipSeqs(n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skip += n
}

// ExpireThrough drops every message with seq ≤ seq, as the vendor does
// after its 5-day window.
func (s *SDK) ExpireThrough(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.msgs), func(i int) bool { return s.msgs[i].Seq > seq })
	s.msgs = append([]element(nil), s.msgs[i:]...)
}

// DuplicateNext makes the next non-empty GetChatData answer carry its first
// element twice.
func (s *SDK) DuplicateNext() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dupNext = true
}

// FailChatData makes the next n GetChatData calls fail with an SDK code
// (10001 transient, 10010 data expired, ...).
func (s *SDK) FailChatData(code, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.chatFail = append(s.chatFail, code)
	}
}

// FailMedia makes the next n GetMediaData calls fail with an SDK code.
func (s *SDK) FailMedia(code, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.mediaFail = append(s.mediaFail, code)
	}
}

// CorruptMediaOnce makes the next download of a file return a damaged
// first chunk, so its md5 does not match until it is fetched again.
func (s *SDK) CorruptMediaOnce(sdkFileID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt[sdkFileID] = true
}

// LastSeq is the seq of the newest message.
func (s *SDK) LastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSeq
}

// Calls counts GetChatData and GetMediaData calls.
func (s *SDK) Calls() (chat, media int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chatCalls, s.mediaCall
}

type chatDataAnswer struct {
	ErrCode  int       `json:"errcode"`
	ErrMsg   string    `json:"errmsg"`
	ChatData []element `json:"chatdata"`
}

// GetChatData implements wecomarchive.ArchiveSDK: up to limit messages
// with seq > seq, as the vendor's JSON.
func (s *SDK) GetChatData(ctx context.Context, seq uint64, limit int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatCalls++
	if s.closed {
		return nil, &wecomarchive.SDKError{Code: wecomarchive.SDKErrSystem}
	}
	if len(s.chatFail) > 0 {
		code := s.chatFail[0]
		s.chatFail = s.chatFail[1:]
		return nil, &wecomarchive.SDKError{Code: code}
	}
	if limit < 1 || limit > wecomarchive.MaxPullLimit {
		return nil, &wecomarchive.SDKError{Code: wecomarchive.SDKErrParams}
	}
	i := sort.Search(len(s.msgs), func(i int) bool { return s.msgs[i].Seq > seq })
	j := min(i+limit, len(s.msgs))
	out := append([]element{}, s.msgs[i:j]...)
	if s.dupNext && len(out) > 0 {
		s.dupNext = false
		out = append([]element{out[0]}, out...)
	}
	return json.Marshal(chatDataAnswer{ErrCode: 0, ErrMsg: "ok", ChatData: out})
}

// DecryptData implements wecomarchive.ArchiveSDK with the fake's scheme.
func (s *SDK) DecryptData(encryptKey []byte, encryptMsg string) ([]byte, error) {
	if len(encryptKey) == 0 {
		return nil, &wecomarchive.SDKError{Code: wecomarchive.SDKErrEncryptKey}
	}
	pt, err := openMessage(encryptKey, encryptMsg)
	if err != nil {
		return nil, &wecomarchive.SDKError{Code: wecomarchive.SDKErrDecrypt}
	}
	return pt, nil
}

// indexPrefix starts the fake's outindexbuf tokens; callers treat them as
// opaque.
const indexPrefix = "fake-range:"

// GetMediaData implements wecomarchive.ArchiveSDK: 512 KB a call.
func (s *SDK) GetMediaData(ctx context.Context, indexBuf, sdkFileID string) (wecomarchive.MediaChunk, error) {
	if err := ctx.Err(); err != nil {
		return wecomarchive.MediaChunk{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mediaCall++
	if len(s.mediaFail) > 0 {
		code := s.mediaFail[0]
		s.mediaFail = s.mediaFail[1:]
		return wecomarchive.MediaChunk{}, &wecomarchive.SDKError{Code: code}
	}
	data, ok := s.media[sdkFileID]
	if !ok {
		return wecomarchive.MediaChunk{}, &wecomarchive.SDKError{Code: wecomarchive.SDKErrFileID}
	}
	off := 0
	if indexBuf != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(indexBuf, indexPrefix))
		if !strings.HasPrefix(indexBuf, indexPrefix) || err != nil || n < 0 || n > len(data) {
			return wecomarchive.MediaChunk{}, &wecomarchive.SDKError{Code: wecomarchive.SDKErrParams}
		}
		off = n
	}
	end := min(off+wecomarchive.MediaChunkBytes, len(data))
	chunk := append([]byte(nil), data[off:end]...)
	if off == 0 && s.corrupt[sdkFileID] && len(chunk) > 0 {
		delete(s.corrupt, sdkFileID)
		chunk[0] ^= 0xff
	}
	return wecomarchive.MediaChunk{OutIndexBuf: indexPrefix + strconv.Itoa(end), Data: chunk, Finished: end == len(data)}, nil
}

// Close implements wecomarchive.ArchiveSDK.
func (s *SDK) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
