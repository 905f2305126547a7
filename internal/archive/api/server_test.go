package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

const (
	connectorToken = "connector-token-0123456789"
	otherToken     = "other-connector-token-0123"
	adminToken     = "admin-token-0123456789abc"
	reviewerToken  = "reviewer-token-0123456789"
	admin          = "system:serviceaccount:vigil-system:vigil-manager"
	reviewer       = "alice@example.com"
)

// grants is an Authorizer that grants listed (user, verb, resource, namespace).
type grants map[string]bool

func (g grants) Allowed(_ context.Context, id Identity, verb, resource, ns string) (bool, error) {
	return g[id.Username+" "+verb+" "+resource+" "+ns], nil
}

type fixture struct {
	t     *testing.T
	srv   *httptest.Server
	store store.Store
	api   *Server
}

func newFixture(t *testing.T, opts ...func(*Options)) *fixture {
	t.Helper()
	// Not t.TempDir: fuzz iterations of one worker share it.
	dir, err := os.MkdirTemp("", "archive-api-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	st, err := sqlite.Open(context.Background(), dir, sqlite.Options{Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	o := Options{
		Store: st,
		Authenticator: NewStaticTokens(map[string]string{
			connectorToken: "system:serviceaccount:desk:trader-li-connector",
			otherToken:     "system:serviceaccount:desk:trader-wu-connector",
			adminToken:     admin,
			reviewerToken:  reviewer,
		}),
		Authorizer:    grants{reviewer + " list messages desk": true},
		AdminSubjects: []string{admin},
		Logger:        logr.Discard(),
	}
	for _, f := range opts {
		f(&o)
	}
	s, err := NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, store: st, api: s}
}

func (f *fixture) call(method, path, token, contentType string, body []byte) (int, ErrorBody, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var eb ErrorBody
	if resp.StatusCode/100 != 2 {
		_ = json.Unmarshal(data, &eb)
	}
	return resp.StatusCode, eb, data
}

func batch(t testing.TB, from, n int, text string) []byte {
	var buf bytes.Buffer
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := from; i < from+n; i++ {
		env := storetest.Envelope(fmt.Sprintf("m%d", i), base.Add(time.Duration(i)*time.Minute), fmt.Sprintf("%s %d", text, i), 0)
		b, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func (f *fixture) messages(account store.AccountKey) int64 {
	st, err := f.store.Stats(context.Background(), account)
	if err != nil {
		f.t.Fatal(err)
	}
	return st.MessagesCaptured
}

const ingestPath = "/v1/records?account=desk/trader-li&custodian=Li+Wei"

func TestIngestIsIdempotentAndDurable(t *testing.T) {
	f := newFixture(t)
	body := batch(t, 0, 20, "明天开会")
	code, _, data := f.call("POST", ingestPath, connectorToken, "application/x-ndjson", body)
	if code != 200 || !strings.Contains(string(data), `"inserted":20`) {
		t.Fatalf("first post: %d %s", code, data)
	}
	code, _, data = f.call("POST", ingestPath, connectorToken, "application/x-ndjson", body)
	if code != 200 || !strings.Contains(string(data), `"duplicates":20`) {
		t.Fatalf("repeated post: %d %s", code, data)
	}
	if got := f.messages("desk/trader-li"); got != 20 {
		t.Fatalf("stored %d, want 20", got)
	}
	recs, _, err := f.store.List(context.Background(), store.Query{Account: "desk/trader-li", Limit: 1})
	if err != nil || len(recs) != 1 || recs[0].Custodian != "Li Wei" {
		t.Fatalf("custodian not recorded: %+v %v", recs, err)
	}
}

func TestIngestRefusesBadInputAndWritesNothing(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxBatchBytes = 64 << 10; o.MaxBatch = 50 })
	good := batch(t, 0, 3, "hello")
	for name, tc := range map[string]struct {
		path, token, ctype string
		body               []byte
		status             int
		reason             string
	}{
		"no token":            {ingestPath, "", "application/x-ndjson", good, 401, "unauthenticated"},
		"unknown token":       {ingestPath, "not-a-known-token-at-all", "application/x-ndjson", good, 401, "unauthenticated"},
		"another's account":   {ingestPath, otherToken, "application/x-ndjson", good, 403, "forbidden"},
		"admin cannot forge":  {ingestPath, adminToken, "application/x-ndjson", good, 403, "forbidden"},
		"bad account":         {"/v1/records?account=Desk", connectorToken, "application/x-ndjson", good, 400, "bad_account"},
		"bad custodian":       {"/v1/records?account=desk/trader-li&custodian=%00", connectorToken, "application/x-ndjson", good, 400, "bad_custodian"},
		"wrong content type":  {ingestPath, connectorToken, "text/plain", good, 415, "bad_content_type"},
		"malformed last line": {ingestPath, connectorToken, "application/x-ndjson", append(append([]byte{}, good...), "{not json\n"...), 400, "malformed"},
		"empty":               {ingestPath, connectorToken, "application/x-ndjson", []byte("\n\n"), 400, "empty"},
		"too many":            {ingestPath, connectorToken, "application/x-ndjson", batch(t, 0, 51, "x"), 413, "too_many"},
		"too large":           {ingestPath, connectorToken, "application/x-ndjson", batch(t, 0, 40, strings.Repeat("大", 1000)), 413, "too_large"},
	} {
		t.Run(name, func(t *testing.T) {
			code, eb, data := f.call("POST", tc.path, tc.token, tc.ctype, tc.body)
			if code != tc.status || eb.Reason != tc.reason {
				t.Fatalf("got %d %s, want %d %s", code, data, tc.status, tc.reason)
			}
		})
	}
	if got := f.messages("desk/trader-li"); got != 0 {
		t.Fatalf("refused batches stored %d records", got)
	}
	mfs, err := f.api.gather.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var rejected float64
	for _, mf := range mfs {
		if mf.GetName() == "vigil_archive_rejected_total" {
			for _, m := range mf.GetMetric() {
				rejected += m.GetCounter().GetValue()
			}
		}
	}
	if rejected != 11 {
		t.Fatalf("vigil_archive_rejected_total = %v, want 11", rejected)
	}
}

func TestAdminEndpoints(t *testing.T) {
	f := newFixture(t)
	if code, _, data := f.call("POST", ingestPath, connectorToken, "application/x-ndjson", batch(t, 0, 10, "保留")); code != 200 {
		t.Fatalf("ingest: %d %s", code, data)
	}
	// Stats are for the operator only.
	if code, eb, _ := f.call("GET", "/v1/accounts/desk/trader-li/stats", connectorToken, "", nil); code != 403 || eb.Reason != "forbidden" {
		t.Fatalf("a connector read stats: %d", code)
	}
	code, _, data := f.call("GET", "/v1/accounts/desk/trader-li/stats", adminToken, "", nil)
	var st store.AccountStats
	if code != 200 || json.Unmarshal(data, &st) != nil || st.MessagesCaptured != 10 {
		t.Fatalf("stats: %d %s", code, data)
	}

	hold := []byte(`{"accounts":["desk/trader-li"],"query":"保留 1","reason":"case 7"}`)
	if code, _, data := f.call("PUT", "/v1/holds/legal/case-7", adminToken, "application/json", hold); code != 200 || !strings.Contains(string(data), `"active":true`) {
		t.Fatalf("put hold: %d %s", code, data)
	}
	if code, eb, _ := f.call("PUT", "/v1/holds/legal/case-7", adminToken, "application/json", []byte(`{"id":"legal/other","accounts":["desk/a"],"reason":"r"}`)); code != 400 || eb.Reason != "invalid" {
		t.Fatalf("a hold whose id differs from its path was accepted: %d", code)
	}
	if code, eb, _ := f.call("PUT", "/v1/holds/legal/case-8", adminToken, "application/json", []byte(`{"accounts":["desk/a"],"reason":"r","colour":"red"}`)); code != 400 || eb.Reason != "malformed" {
		t.Fatalf("an unknown field was accepted: %d", code)
	}

	purge := fmt.Sprintf(`{"accounts":["desk/trader-li"],"cutoff":%q,"maxRecords":100,"rule":"desk/finra","actor":"someone-else"}`,
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339))
	code, _, data = f.call("POST", "/v1/purge", adminToken, "application/json", []byte(purge))
	var rep store.PurgeReport
	if code != 200 || json.Unmarshal(data, &rep) != nil {
		t.Fatalf("purge: %d %s", code, data)
	}
	// "保留 1" matches records 1 only... and 10..19 do not exist: one held.
	if rep.Purged != 9 || rep.HeldBack != 1 || rep.CertificateID == "" {
		t.Fatalf("purge report %+v", rep)
	}
	if code, _, data := f.call("GET", "/v1/holds/legal/case-7", adminToken, "", nil); code != 200 || !strings.Contains(string(data), `"recordsHeld":1`) {
		t.Fatalf("get hold: %d %s", code, data)
	}
	if code, eb, _ := f.call("DELETE", "/v1/holds/legal/case-7", adminToken, "application/json", []byte(`{}`)); code != 400 || eb.Reason != "invalid" {
		t.Fatalf("a release without a reason was accepted: %d", code)
	}
	if code, _, data := f.call("DELETE", "/v1/holds/legal/case-7", adminToken, "application/json", []byte(`{"reason":"case closed"}`)); code != 200 || !strings.Contains(string(data), `"active":false`) {
		t.Fatalf("release: %d %s", code, data)
	}
	if code, eb, _ := f.call("GET", "/v1/holds/legal/none", adminToken, "", nil); code != 404 || eb.Reason != "not_found" {
		t.Fatalf("missing hold: %d", code)
	}

	// The actor recorded is the caller, not what the body claimed.
	ev, _, err := f.store.Audit(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		if e.Action == store.AuditPurge && e.Actor != admin {
			t.Fatalf("purge audited as %q", e.Actor)
		}
	}
}

func TestSearchNeedsRBACAndIsAudited(t *testing.T) {
	f := newFixture(t)
	if code, _, data := f.call("POST", ingestPath, connectorToken, "application/x-ndjson", batch(t, 0, 5, "內幕消息")); code != 200 {
		t.Fatalf("ingest: %d %s", code, data)
	}
	if code, _, _ := f.call("GET", "/v1/records?account=desk/trader-li", connectorToken, "", nil); code != 403 {
		t.Fatalf("a connector searched: %d", code)
	}
	if code, _, _ := f.call("GET", "/v1/records?account=other/x", reviewerToken, "", nil); code != 403 {
		t.Fatalf("a reviewer searched a namespace RBAC does not grant: %d", code)
	}
	code, _, data := f.call("GET", "/v1/records?account=desk/trader-li&q="+"消息%203&limit=10", reviewerToken, "", nil)
	var page ListResponse
	if code != 200 || json.Unmarshal(data, &page) != nil || len(page.Records) != 1 || !strings.Contains(page.Records[0].Record.Text, "消息 3") {
		t.Fatalf("search: %d %s", code, data)
	}
	// The match is marked by byte offsets into the text.
	rec := page.Records[0].Record
	marks := page.Highlights[rec.ID]
	if len(marks) == 0 || !strings.HasPrefix(rec.Text[marks[0].Start:marks[0].End], "消息") {
		t.Fatalf("highlights %v of %q", page.Highlights, rec.Text)
	}
	if code, _, data := f.call("GET", "/v1/records?account=desk/trader-li&custodian=Nobody", reviewerToken, "", nil); code != 200 || strings.Contains(string(data), "消息") {
		t.Fatalf("custodian filter: %d %s", code, data)
	}
	if code, eb, _ := f.call("GET", "/v1/records?account=desk/trader-li&severity=Severe", reviewerToken, "", nil); code != 400 || eb.Reason != "invalid" {
		t.Fatalf("an unknown severity accepted: %d", code)
	}
	if code, eb, _ := f.call("GET", "/v1/records?account=desk/trader-li&limit=0", reviewerToken, "", nil); code != 400 || eb.Reason != "invalid" {
		t.Fatalf("limit 0 accepted: %d", code)
	}
	if code, _, _ := f.call("GET", "/v1/audit", reviewerToken, "", nil); code != 403 {
		t.Fatalf("a reviewer without the grant read the audit trail: %d", code)
	}
	code, _, data = f.call("GET", "/v1/audit", adminToken, "", nil)
	var audit AuditResponse
	if code != 200 || json.Unmarshal(data, &audit) != nil {
		t.Fatalf("audit: %d %s", code, data)
	}
	last := audit.Events[len(audit.Events)-1]
	if last.Action != store.AuditRead || last.Actor != reviewer || last.Subject != "desk/trader-li" {
		t.Fatalf("the search was not audited: %+v", audit.Events)
	}
}

func TestProbes(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _, data := f.call("GET", p, "", "", nil); code != 200 {
			t.Fatalf("%s: %d %s", p, code, data)
		}
	}
	_ = f.store.Close()
	if code, _, _ := f.call("GET", "/readyz", "", "", nil); code != 503 {
		t.Fatalf("readyz with a closed store: %d", code)
	}
}

// FuzzIngest posts arbitrary bodies as a connector: the archive never fails
// with a server error, and a refused batch stores nothing.
func FuzzIngest(f *testing.F) {
	f.Add(batch(f, 0, 2, "hi"))
	f.Add([]byte(`{"record":{"schemaVersion":"capture.v1","id":"01J"}}`))
	f.Add([]byte("\xff\xfe\n{}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture(t)
		code, _, data := fx.call("POST", ingestPath, connectorToken, "application/x-ndjson", body)
		if code >= 500 {
			t.Fatalf("server error %d: %s", code, data)
		}
		stored := fx.messages("desk/trader-li")
		if code != 200 && stored != 0 {
			t.Fatalf("refused with %d (%s) but stored %d; body %q", code, data, stored, body)
		}
		if code == 200 {
			envs, err := capture.DecodeEnvelopes(bytes.NewReader(body), DefaultMaxBatch)
			if err != nil || int64(len(envs)) < stored {
				t.Fatalf("accepted %d envelopes the decoder refuses (%v)", stored, err)
			}
		}
	})
}

// FuzzParseQuery feeds arbitrary search parameters: a query is either refused
// or within bounds.
func FuzzParseQuery(f *testing.F) {
	f.Add("account=desk/a&q=%E5%86%85%E5%B9%95&limit=10&from=2026-01-01T00:00:00Z")
	f.Add("account=x&limit=-1")
	f.Add("limit=99999999999999999999&to=yesterday")
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := httptest.NewRequest(http.MethodGet, "/v1/records", nil)
		r.URL.RawQuery = rawQuery
		q, err := parseQuery(r)
		if err != nil {
			return
		}
		if q.Limit < 1 || q.Limit > store.MaxListLimit || len(q.Text) > 1024 {
			t.Fatalf("accepted out-of-bounds query %+v", q)
		}
		if _, err := store.ParseAccountKey(string(q.Account)); err != nil {
			t.Fatalf("accepted account %q: %v", q.Account, err)
		}
		if err := q.ValidateFilters(); err != nil {
			t.Fatalf("accepted filters %+v: %v", q, err)
		}
	})
}
