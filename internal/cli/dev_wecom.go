package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi/qyapitest"
	"github.com/vigil-operator/vigil/internal/channel/wecomarchive/fakesdk"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

// The demo WeCom corporation vigil dev fakes. Its archive account is
// enrolled in the samples' namespace like any other account.
const (
	devWeComCorpID    = "wwvigildev0000000001"
	devWeComNamespace = "trading"
	devWeComAccount   = "wecom-archive-demo"
	// DevWeComURLFile, in the state directory, holds the fake's address so
	// end-to-end tests can add messages and inject faults.
	DevWeComURLFile = "wecom-fake-url"
)

// devWeCom is the vendor side of WeCom that cannot exist on this machine:
// the Finance SDK, served over the SDK bridge protocol by the fake SDK, and
// the WeCom server API (tokens and msgaudit), on one loopback port.
type devWeCom struct {
	sdk        *fakesdk.SDK
	privateKey []byte
	secret     string
	url        string
	log        logr.Logger
}

// startDevWeCom serves the fakes and records their address in stateDir.
func startDevWeCom(ctx context.Context, stateDir string, log logr.Logger) (*devWeCom, func(), error) {
	sdk, pem, err := fakesdk.NewWithGeneratedKeys(1)
	if err != nil {
		return nil, nil, fmt.Errorf("while creating the fake WeCom SDK: %w", err)
	}
	secret := "vigil-dev-archive-secret-" + time.Now().UTC().Format("20060102150405")
	api := qyapitest.New(devWeComCorpID, secret)
	mux := http.NewServeMux()
	mux.Handle("/cgi-bin/", api)
	mux.Handle("/", fakesdk.NewServer(sdk))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("while listening for the WeCom fake: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err, "WeCom fake stopped")
		}
	}()
	w := &devWeCom{sdk: sdk, privateKey: pem, secret: secret, url: "http://" + ln.Addr().String(), log: log}
	if err := os.WriteFile(filepath.Join(stateDir, DevWeComURLFile), []byte(w.url+"\n"), 0o600); err != nil {
		_ = srv.Close()
		return nil, nil, err
	}
	stop := func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}
	log.Info("Serving the WeCom fake (Finance SDK bridge and server API)", "url", w.url)
	return w, stop, nil
}

// enrol creates the demo corporation's credentials and archive account.
// The private key is generated per run, so no key is ever committed.
func (w *devWeCom) enrol(ctx context.Context, c client.Client) error {
	secret := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: devWeComAccount + "-credentials", Namespace: devWeComNamespace},
		Data: map[string][]byte{
			cc.KeyCorpSecret:  []byte(w.secret),
			cc.KeyPrivateKeys: w.privateKey,
		},
	}
	poll := metav1.Duration{Duration: 5 * time.Second}
	account := &v1alpha1.MonitoredAccount{
		TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "MonitoredAccount"},
		ObjectMeta: metav1.ObjectMeta{Name: devWeComAccount, Namespace: devWeComNamespace,
			Labels: map[string]string{"desk": "equities"}},
		Spec: v1alpha1.MonitoredAccountSpec{
			Channel:              v1alpha1.ChannelWeComArchive,
			ExternalID:           devWeComCorpID,
			Custodian:            v1alpha1.Custodian{Name: "Compliance (WeCom corp archive)"},
			CredentialsSecretRef: &v1alpha1.LocalObjectReference{Name: secret.Name},
			WeCom: &v1alpha1.WeComSpec{
				APIBaseURL: w.url, SDKMode: v1alpha1.WeComSDKBridge, SDKBridgeURL: w.url,
				PollInterval: &poll, PullLimit: 1000,
			},
		},
	}
	for _, obj := range []client.Object{secret, account} {
		if err := c.Patch(ctx, obj, client.Apply, client.FieldOwner(devFieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("while enrolling the WeCom demo (%s %s): %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
		}
	}
	return nil
}

// traffic adds generated chat between employees and external contacts to the
// fake archive, as WeCom would while people talk.
func (w *devWeCom) traffic(interval time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for seed := uint64(1); ; seed++ {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			lines, err := w.sdk.Traffic(trafficBatch, time.Now(), 32<<10, seed)
			if err == nil {
				err = w.sdk.AddMessages(lines)
			}
			if err != nil {
				w.log.Error(err, "Adding WeCom demo traffic")
			}
		}
	}
}
