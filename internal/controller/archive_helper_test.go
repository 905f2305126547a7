package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/api"
	"github.com/vigil-operator/vigil/internal/archive/client"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/naming"
)

const testAdminToken = "manager-token-for-controller-tests"

// testArchive is a real archive server on SQLite that the controllers talk
// to over HTTP, as in a cluster.
type testArchive struct {
	client *client.Client
	url    string
	stop   func()
}

// testTokens accepts the manager's token and, for ingesting, tokens of the
// form "connector/<namespace>/<account>", which it maps to that account's
// connector ServiceAccount, as TokenReview would.
type testTokens struct{}

func (testTokens) Authenticate(_ context.Context, token string) (api.Identity, error) {
	if token == testAdminToken {
		return api.Identity{Username: "system:serviceaccount:vigil-system:vigil-manager"}, nil
	}
	parts := strings.Split(token, "/")
	if len(parts) == 3 && parts[0] == "connector" {
		return api.Identity{Username: "system:serviceaccount:" + parts[1] + ":" + naming.ConnectorName(parts[2])}, nil
	}
	return api.Identity{}, api.ErrUnauthenticated
}

func startTestArchive(ctx context.Context) (*testArchive, error) {
	dir, err := os.MkdirTemp("", "vigil-controller-archive-")
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, dir, sqlite.Options{Logger: logr.Discard()})
	if err != nil {
		return nil, err
	}
	srv, err := api.NewServer(api.Options{
		Store: st, Authenticator: testTokens{}, Logger: logr.Discard(),
		AdminSubjects: []string{"system:serviceaccount:vigil-system:vigil-manager"},
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	c, err := client.New(url, "", client.WithToken(testAdminToken))
	if err != nil {
		return nil, err
	}
	return &testArchive{client: c, url: url, stop: func() {
		_ = hs.Close()
		_ = st.Close()
		_ = os.RemoveAll(dir)
	}}, nil
}

// ingest posts n records of an account through the ingest API, as its
// connector would, sent one minute apart from sentAt.
func (a *testArchive) ingest(t testing.TB, ns, account, custodian string, sentAt time.Time, n int, textPrefix string) {
	t.Helper()
	var body bytes.Buffer
	for i := range n {
		env := storetest.Envelope(fmt.Sprintf("%s-%d-%d", textPrefix, sentAt.UnixNano(), i), sentAt.Add(time.Duration(i)*time.Minute),
			fmt.Sprintf("%s %d", textPrefix, i), 0)
		if err := json.NewEncoder(&body).Encode(env); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, a.url+"/v1/records?account="+ns+"/"+account+"&custodian="+strings.ReplaceAll(custodian, " ", "+"), &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer connector/"+ns+"/"+account)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ingest into %s/%s: %s", ns, account, resp.Status)
	}
}

// holdReleased reports whether the archive has recorded the hold's release.
func (a *testArchive) holdReleased(t testing.TB, id string) bool {
	t.Helper()
	st, err := a.client.GetHold(context.Background(), id)
	if err != nil {
		t.Fatalf("reading hold %s: %v", id, err)
	}
	return !st.Active && st.ReleasedAt != nil
}
