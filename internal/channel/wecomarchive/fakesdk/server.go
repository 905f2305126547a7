package fakesdk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
)

// Control endpoints NewServer serves beside the bridge protocol.
const (
	// PathMessages takes decrypted-message JSON, one object a line, and
	// archives each with the next seq: {"added":n,"lastSeq":seq}.
	PathMessages = "/fake/messages"
	// PathMedia stores the body as the media of ?sdkfileid=.
	PathMedia = "/fake/media"
	// PathInject queues faults: ?op=chat|media&code=10001&times=1,
	// ?op=gap&skip=5, ?op=duplicate, ?op=corrupt&sdkfileid=,
	// ?op=expire&through=seq.
	PathInject = "/fake/inject"
	// PathState answers {"lastSeq":seq,"chatCalls":n,"mediaCalls":n}.
	PathState = "/fake/state"

	maxControlBody = 64 << 20
)

// NewServer serves the fake over the SDK bridge protocol (so the channel's
// Bridge mode can reach it, as in `vigil dev`) plus the control endpoints
// above for end-to-end tests.
func NewServer(s *SDK) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", wecomarchive.NewBridgeHandler(s))
	mux.HandleFunc("POST "+PathMessages, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBody))
		if err != nil {
			http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, maxControlBody)
		added := 0
		var last uint64
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			seq, err := s.AddMessage(line)
			if err != nil {
				http.Error(w, "line "+strconv.Itoa(added+1)+": "+err.Error(), http.StatusBadRequest)
				return
			}
			added++
			last = seq
		}
		writeJSON(w, map[string]any{"added": added, "lastSeq": last})
	})
	mux.HandleFunc("POST "+PathMedia, func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("sdkfileid")
		if id == "" {
			http.Error(w, "sdkfileid is required", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBody))
		if err != nil {
			http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		s.AddMedia(id, body)
		writeJSON(w, map[string]any{"stored": len(body)})
	})
	mux.HandleFunc("POST "+PathInject, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		num := func(k string, def int) (int, bool) {
			v := q.Get(k)
			if v == "" {
				return def, true
			}
			n, err := strconv.Atoi(v)
			return n, err == nil && n >= 0
		}
		code, ok1 := num("code", wecomarchive.SDKErrNetwork)
		times, ok2 := num("times", 1)
		if !ok1 || !ok2 {
			http.Error(w, "code and times must be non-negative integers", http.StatusBadRequest)
			return
		}
		switch q.Get("op") {
		case "chat":
			s.FailChatData(code, times)
		case "media":
			s.FailMedia(code, times)
		case "gap":
			n, ok := num("skip", 1)
			if !ok {
				http.Error(w, "skip must be a non-negative integer", http.StatusBadRequest)
				return
			}
			s.SkipSeqs(uint64(n))
		case "duplicate":
			s.DuplicateNext()
		case "corrupt":
			s.CorruptMediaOnce(q.Get("sdkfileid"))
		case "expire":
			n, err := strconv.ParseUint(q.Get("through"), 10, 64)
			if err != nil {
				http.Error(w, "through must be a seq", http.StatusBadRequest)
				return
			}
			s.ExpireThrough(n)
		default:
			http.Error(w, "op must be chat, media, gap, duplicate, corrupt or expire", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+PathState, func(w http.ResponseWriter, _ *http.Request) {
		chat, media := s.Calls()
		writeJSON(w, map[string]any{"lastSeq": s.LastSeq(), "chatCalls": chat, "mediaCalls": media})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
