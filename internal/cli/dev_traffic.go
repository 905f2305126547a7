package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/channel/simulator"
	"github.com/vigil-operator/vigil/internal/channel/webhook"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/naming"
)

// webhookTraffic posts signed batches of generated Mandarin, Cantonese and
// English chat to every Webhook account's connector, as a chat gateway would.
type webhookTraffic struct {
	k8s      client.Client
	log      logr.Logger
	interval time.Duration
	gens     map[string]*simulator.Generator
	http     http.Client
}

const trafficBatch = 3

func (w *webhookTraffic) run(ctx context.Context) error {
	w.gens = map[string]*simulator.Generator{}
	w.http.Timeout = 10 * time.Second
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		var accounts v1alpha1.MonitoredAccountList
		if err := w.k8s.List(ctx, &accounts); err != nil {
			w.log.Error(err, "Listing accounts")
			continue
		}
		for i := range accounts.Items {
			a := &accounts.Items[i]
			if a.Spec.Channel != v1alpha1.ChannelWebhook || a.Spec.CredentialsSecretRef == nil || a.Spec.State == v1alpha1.AccountSuspended {
				continue
			}
			if err := w.post(ctx, a); err != nil {
				// The connector may still be starting; the next tick retries.
				w.log.V(1).Info("Sample traffic not delivered", "account", client.ObjectKeyFromObject(a), "reason", err.Error())
			}
		}
	}
}

func (w *webhookTraffic) post(ctx context.Context, a *v1alpha1.MonitoredAccount) error {
	var secret corev1.Secret
	if err := w.k8s.Get(ctx, client.ObjectKey{Namespace: a.Namespace, Name: a.Spec.CredentialsSecretRef.Name}, &secret); err != nil {
		return err
	}
	key := secret.Data[cc.KeyHMACSecret]
	var pod corev1.Pod
	if err := w.k8s.Get(ctx, client.ObjectKey{Namespace: a.Namespace, Name: naming.ConnectorName(a.Name) + "-0"}, &pod); err != nil {
		return err
	}
	if pod.Status.PodIP == "" {
		return fmt.Errorf("pod %s has no IP yet", pod.Name)
	}
	id := a.Namespace + "/" + a.Name
	gen, ok := w.gens[id]
	if !ok {
		gen = simulator.NewGenerator(int64(len(w.gens)+100), "webhook", a.Spec.Custodian.Name)
		w.gens[id] = gen
	}
	now := time.Now().UTC()
	msgs := make([]webhook.Message, 0, trafficBatch)
	for range trafficBatch {
		r := gen.Next(now)
		msgs = append(msgs, webhook.Message{
			ID:           r.NativeID,
			Conversation: webhook.Conversation{ID: r.Conversation.ID, Type: r.Conversation.Type, Name: r.Conversation.Name},
			Sender:       webhook.Participant{ID: r.Sender.ID, DisplayName: r.Sender.DisplayName, Affiliation: string(r.Sender.Affiliation)},
			Text:         r.Text,
			SentAt:       r.SentAt.Format(time.RFC3339Nano),
		})
	}
	body, err := json.Marshal(map[string]any{"messages": msgs})
	if err != nil {
		return err
	}
	url := "http://" + pod.Status.PodIP + ":" + strconv.Itoa(cc.HTTPPort) + webhook.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts, sig := webhook.Sign(key, now, body)
	req.Header.Set(webhook.HeaderTimestamp, ts)
	req.Header.Set(webhook.HeaderSignature, sig)
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("connector answered %s", resp.Status)
	}
	return nil
}
