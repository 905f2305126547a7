package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/archive/export"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

func TestExportIsProvableAndAudited(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Authorizer = grants{reviewer + " create exports desk": true}
	})
	if code, _, data := f.call("POST", ingestPath, connectorToken, "application/x-ndjson", batch(t, 0, 30, "內幕消息 guaranteed")); code != 200 {
		t.Fatalf("ingest: %d %s", code, data)
	}
	post := func(token, body string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("POST", f.srv.URL+"/v1/exports", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, data
	}

	if resp, _ := post(connectorToken, `{"account":"desk/trader-li"}`); resp.StatusCode != 403 {
		t.Fatalf("a connector exported: %d", resp.StatusCode)
	}
	if resp, _ := post(reviewerToken, `{"account":"other/x"}`); resp.StatusCode != 403 {
		t.Fatalf("a reviewer exported a namespace RBAC does not grant: %d", resp.StatusCode)
	}
	for _, bad := range []string{`{"account":"desk/trader-li","bogus":1}`, `{"account":"nope"}`, `not json`, `{"account":"desk/trader-li","formats":["pdf"]}`,
		`{"account":"desk/trader-li","from":"2026-03-02T00:00:00Z","to":"2026-03-01T00:00:00Z"}`} {
		if resp, data := post(reviewerToken, bad); resp.StatusCode != 400 {
			t.Fatalf("%s: %d %s", bad, resp.StatusCode, data)
		}
	}

	resp, zipped := post(reviewerToken, `{"account":"desk/trader-li","query":"消息","matter":"SEC inquiry 7","exportID":"prod-001"}`)
	status := resp.Trailer.Get(ExportStatusTrailer)
	if resp.StatusCode != 200 || !strings.HasPrefix(status, "ok ") {
		t.Fatalf("export: %d, status %q", resp.StatusCode, status)
	}
	l := f.store.(store.Log)
	report, err := export.VerifyZip(context.Background(), bytes.NewReader(zipped), int64(len(zipped)), l.Origin(), []*tlog.Verifier{l.Verifier()})
	if err != nil || !report.OK() || report.Counts.Records != 30 {
		t.Fatalf("the export does not verify: %+v, %v", report, err)
	}
	if report.ManifestSHA256 != strings.TrimPrefix(status, "ok ") {
		t.Fatalf("the trailer names manifest %s, the zip holds %s", status, report.ManifestSHA256)
	}

	// Both ends of the export are in the audit trail, the second with the
	// manifest's hash: the chain of custody.
	events, _, err := f.store.Audit(context.Background(), 0, store.MaxListLimit)
	if err != nil {
		t.Fatal(err)
	}
	var exports []exportDetail
	for _, e := range events {
		if e.Action == store.AuditExport {
			var d exportDetail
			if err := json.Unmarshal([]byte(e.Detail), &d); err != nil || e.Actor != reviewer || e.Subject != "desk/trader-li" {
				t.Fatalf("export event %+v", e)
			}
			exports = append(exports, d)
		}
	}
	if len(exports) != 2 || exports[0].ExportID != "prod-001" || exports[0].ManifestSHA256 != "" ||
		exports[1].ManifestSHA256 != report.ManifestSHA256 || exports[1].Records != 30 {
		t.Fatalf("export events %+v", exports)
	}
}

// FuzzDecodeExportRequest: whatever the body, a request is refused or comes
// out with a valid account, bounded query, ordered range, valid filters and
// an export id.
func FuzzDecodeExportRequest(f *testing.F) {
	f.Add(`{"account":"desk/trader-li","query":"內幕","formats":["rsmf"],"severity":"High"}`)
	f.Add(`{"account":"desk/a","from":"2026-03-02T00:00:00Z","to":"2026-03-01T00:00:00Z"}`)
	f.Add(`{"account":"desk/a","category":"a,b"}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/v1/exports", strings.NewReader(body))
		req, q, err := decodeExportRequest(r)
		if err != nil {
			return
		}
		if _, err := store.ParseAccountKey(string(q.Account)); err != nil || len(q.Text) > 1024 || req.ExportID == "" || len(req.Formats) == 0 {
			t.Fatalf("accepted %+v", req)
		}
		for _, f := range req.Formats {
			if !slices.Contains(export.AllFormats, f) {
				t.Fatalf("accepted format %q", f)
			}
		}
		if q.From != nil && q.To != nil && q.From.After(*q.To) {
			t.Fatalf("accepted a reversed range %+v", req)
		}
		if err := q.ValidateFilters(); err != nil {
			t.Fatalf("accepted filters %+v: %v", req, err)
		}
	})
}
