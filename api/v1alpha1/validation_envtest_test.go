package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/vigil-operator/vigil/internal/testenv"
)

var k8s client.Client

func TestMain(m *testing.M) {
	env, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	k8s = env.Client
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

const account = `
apiVersion: compliance.vigil.dev/v1alpha1
kind: MonitoredAccount
metadata: {name: %s, namespace: default}
spec:
  channel: Webhook
  externalID: trader-1
  custodian: {name: Li Wei}
  credentialsSecretRef: {name: creds}
`

const policy = `
apiVersion: compliance.vigil.dev/v1alpha1
kind: CompliancePolicy
metadata: {name: %s, namespace: default}
spec:
  accountSelector: {}
  rules:
  - name: insider
    category: InsiderTrading
    severity: High
    keywords: {terms: [内幕消息]}
`

const rule = `
apiVersion: compliance.vigil.dev/v1alpha1
kind: RetentionRule
metadata: {name: %s, namespace: default}
spec:
  accountSelector: {}
  retain: P7Y
  regulation: CIRO
  purge: {schedule: "0 3 * * *"}
`

const hold = `
apiVersion: compliance.vigil.dev/v1alpha1
kind: LegalHold
metadata: {name: %s, namespace: default}
spec:
  caseID: SEC-2026-001
  reason: subpoena
  accounts: [trader-1]
`

// edit applies a change to the decoded object: a path of map keys (and list
// indexes as ints) and a value, or nil to delete the last key.
type edit struct {
	path  []any
	value any
}

func apply(t *testing.T, obj map[string]any, e edit) {
	t.Helper()
	cur := any(obj)
	for i, p := range e.path {
		last := i == len(e.path)-1
		switch key := p.(type) {
		case string:
			m := cur.(map[string]any)
			if last {
				if e.value == nil {
					delete(m, key)
				} else {
					m[key] = e.value
				}
				return
			}
			if _, ok := m[key]; !ok {
				m[key] = map[string]any{}
			}
			cur = m[key]
		case int:
			l := cur.([]any)
			if last {
				l[key] = e.value
				return
			}
			cur = l[key]
		}
	}
}

func TestAdmissionValidation(t *testing.T) {
	tests := map[string]struct {
		base  string
		edits []edit
		// wantErr is a substring of the API server's message; empty means the
		// object must be accepted.
		wantErr string
	}{
		"valid account": {base: account},
		"valid policy":  {base: policy},
		"valid rule":    {base: rule},
		"valid hold":    {base: hold},
		"unknown channel": {base: account, edits: []edit{{[]any{"spec", "channel"}, "Fax"}},
			wantErr: `spec.channel: Unsupported value: "Fax"`},
		"missing credentials for webhook": {base: account, edits: []edit{{[]any{"spec", "credentialsSecretRef"}, nil}},
			wantErr: "spec.credentialsSecretRef: Invalid value: credentialsSecretRef is required for this channel"},
		"simulator needs no credentials": {base: account, edits: []edit{
			{[]any{"spec", "channel"}, "Simulator"}, {[]any{"spec", "credentialsSecretRef"}, nil}}},
		"simulator settings on webhook": {base: account, edits: []edit{{[]any{"spec", "simulator"}, map[string]any{"messagesPerMinute": 10}}},
			wantErr: "simulator settings are only valid with channel Simulator"},
		"wecom archive with a bridge": {base: account, edits: []edit{{[]any{"spec", "channel"}, "WeComArchive"}, {[]any{"spec", "externalID"}, "ww1436e0e65a779aee"},
			{[]any{"spec", "wecom"}, map[string]any{"sdkMode": "Bridge", "sdkBridgeURL": "http://wecom-sdk-bridge:8080"}}}},
		"bridge mode without its URL": {base: account, edits: []edit{{[]any{"spec", "channel"}, "WeComArchive"},
			{[]any{"spec", "wecom"}, map[string]any{"sdkMode": "Bridge"}}},
			wantErr: "sdkBridgeURL is required when sdkMode is Bridge"},
		"wecom settings on slack": {base: account, edits: []edit{{[]any{"spec", "channel"}, "Slack"},
			{[]any{"spec", "wecom"}, map[string]any{"pullLimit": 10}}},
			wantErr: "wecom settings are only valid with channel WeComArchive or WeComCallback"},
		"pull limit over the SDK's maximum": {base: account, edits: []edit{{[]any{"spec", "channel"}, "WeComArchive"},
			{[]any{"spec", "wecom"}, map[string]any{"pullLimit": 5000}}},
			wantErr: "spec.wecom.pullLimit"},
		"wecom api URL not a URL": {base: account, edits: []edit{{[]any{"spec", "channel"}, "WeComCallback"},
			{[]any{"spec", "wecom"}, map[string]any{"apiBaseURL": "qyapi.weixin.qq.com"}}},
			wantErr: "spec.wecom.apiBaseURL"},
		"official account mode": {base: account, edits: []edit{{[]any{"spec", "channel"}, "WeChatOfficialAccount"}, {[]any{"spec", "externalID"}, "wxba5fad812f8e6fb9"},
			{[]any{"spec", "wechatOfficialAccount"}, map[string]any{"mode": "Compatible"}}}},
		"unknown official account mode": {base: account, edits: []edit{{[]any{"spec", "channel"}, "WeChatOfficialAccount"},
			{[]any{"spec", "wechatOfficialAccount"}, map[string]any{"mode": "Open"}}},
			wantErr: `spec.wechatOfficialAccount.mode: Unsupported value: "Open"`},
		"official account settings on LINE": {base: account, edits: []edit{{[]any{"spec", "channel"}, "LINE"},
			{[]any{"spec", "wechatOfficialAccount"}, map[string]any{"mode": "Secure"}}},
			wantErr: "wechatOfficialAccount settings are only valid with channel WeChatOfficialAccount"},
		"telegram needs credentials": {base: account, edits: []edit{{[]any{"spec", "channel"}, "Telegram"}, {[]any{"spec", "credentialsSecretRef"}, nil}},
			wantErr: "credentialsSecretRef is required for this channel"},
		"WhatsApp phone number instead of its id": {base: account, edits: []edit{{[]any{"spec", "channel"}, "WhatsApp"},
			{[]any{"spec", "externalID"}, "+1 555 078 3881"}}, wantErr: "phone number ID (digits)"},
		"LINE bot id": {base: account, edits: []edit{{[]any{"spec", "channel"}, "LINE"},
			{[]any{"spec", "externalID"}, "U4af4980629e2e0000000000000000001"}}},
		"Telegram token instead of the bot id": {base: account, edits: []edit{{[]any{"spec", "channel"}, "Telegram"},
			{[]any{"spec", "externalID"}, "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}}, wantErr: "the digits before ':' in its token"},
		"WeCom user id instead of the corp id": {base: account, edits: []edit{{[]any{"spec", "channel"}, "WeComCallback"},
			{[]any{"spec", "externalID"}, "chen.jing"}}, wantErr: "corp id"},
		"account name not a DNS label": {base: account, edits: []edit{{[]any{"metadata", "name"}, "trader.li"}},
			wantErr: "metadata.name must be a DNS label"},
		"bad custodian email": {base: account, edits: []edit{{[]any{"spec", "custodian", "email"}, "not-an-email"}},
			wantErr: "spec.custodian.email"},
		"rule with no matcher": {base: policy, edits: []edit{{[]any{"spec", "rules", 0, "keywords"}, nil}},
			wantErr: "spec.rules[0]: Invalid value: a rule needs exactly one matcher"},
		"rule with two matchers": {base: policy, edits: []edit{{[]any{"spec", "rules", 0, "regex"}, "foo.*bar"}},
			wantErr: "spec.rules[0]: Invalid value: a rule needs exactly one matcher"},
		"invalid severity": {base: policy, edits: []edit{{[]any{"spec", "rules", 0, "severity"}, "Huge"}},
			wantErr: `spec.rules[0].severity: Unsupported value: "Huge"`},
		"invalid category": {base: policy, edits: []edit{{[]any{"spec", "rules", 0, "category"}, "Gossip"}},
			wantErr: `spec.rules[0].category: Unsupported value: "Gossip"`},
		"keywords without terms": {base: policy, edits: []edit{{[]any{"spec", "rules", 0, "keywords"}, map[string]any{"languages": []any{"en"}}}},
			wantErr: "keywords needs terms or termsFrom"},
		"CIRO under seven years": {base: rule, edits: []edit{{[]any{"spec", "retain"}, "P6Y11M"}},
			wantErr: "spec.retain: Invalid value: retain is shorter than the CIRO minimum of 7 years"},
		"CIRO in months": {base: rule, edits: []edit{{[]any{"spec", "retain"}, "P84M"}}},
		"FINRA under six years": {base: rule, edits: []edit{{[]any{"spec", "regulation"}, "FINRA"}, {[]any{"spec", "retain"}, "P2190D"}},
			wantErr: "shorter than the FINRA minimum of 6 years"},
		"SEC17a4 six years": {base: rule, edits: []edit{{[]any{"spec", "regulation"}, "SEC17a4"}, {[]any{"spec", "retain"}, "P6Y"}}},
		"SEC17a4 five years": {base: rule, edits: []edit{{[]any{"spec", "regulation"}, "SEC17a4"}, {[]any{"spec", "retain"}, "P5Y"}},
			wantErr: "shorter than the SEC17a4 minimum of 6 years"},
		"MiFIDII four years": {base: rule, edits: []edit{{[]any{"spec", "regulation"}, "MiFIDII"}, {[]any{"spec", "retain"}, "P4Y"}},
			wantErr: "shorter than the MiFIDII minimum of 5 years"},
		"malformed period": {base: rule, edits: []edit{{[]any{"spec", "retain"}, "seven years"}},
			wantErr: "spec.retain: Invalid value: \"seven years\": retain must be an ISO 8601 period"},
		"dangling T": {base: rule, edits: []edit{{[]any{"spec", "retain"}, "P1YT"}},
			wantErr: "retain must be an ISO 8601 period"},
		"custom without reason": {base: rule, edits: []edit{{[]any{"spec", "regulation"}, "Custom"}, {[]any{"spec", "retain"}, "PT10M"}},
			wantErr: "spec.reason: Invalid value: reason is required when regulation is Custom"},
		"custom with reason": {base: rule, edits: []edit{{[]any{"spec", "regulation"}, "Custom"}, {[]any{"spec", "retain"}, "PT10M"},
			{[]any{"spec", "reason"}, "end-to-end test of purging"}}},
		"unknown regulation": {base: rule, edits: []edit{{[]any{"spec", "regulation"}, "GDPR"}},
			wantErr: `spec.regulation: Unsupported value: "GDPR"`},
		"hold without scope": {base: hold, edits: []edit{{[]any{"spec", "accounts"}, nil}},
			wantErr: "a hold needs a scope"},
		"hold with inverted range": {base: hold, edits: []edit{{[]any{"spec", "from"}, "2026-02-01T00:00:00Z"}, {[]any{"spec", "to"}, "2026-01-01T00:00:00Z"}},
			wantErr: "from must not be after to"},
	}
	ctx := context.Background()
	i := 0
	for name, tc := range tests {
		i++
		t.Run(name, func(t *testing.T) {
			obj := decode(t, fmt.Sprintf(tc.base, fmt.Sprintf("obj-%d", i)))
			for _, e := range tc.edits {
				apply(t, obj.Object, e)
			}
			err := k8s.Create(ctx, obj, client.DryRunAll)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want the object accepted, got: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("want a rejection containing %q, the object was accepted", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("want a rejection containing %q, got: %v", tc.wantErr, err)
			}
		})
	}
}

func TestImmutableFields(t *testing.T) {
	ctx := context.Background()
	acct := decode(t, fmt.Sprintf(account, "immutable-channel"))
	if err := k8s.Create(ctx, acct); err != nil {
		t.Fatal(err)
	}
	apply(t, acct.Object, edit{[]any{"spec", "channel"}, "Simulator"})
	if err := k8s.Update(ctx, acct); err == nil || !strings.Contains(err.Error(), "channel is immutable") {
		t.Fatalf("want channel change refused as immutable, got %v", err)
	}

	h := decode(t, fmt.Sprintf(hold, "immutable-hold"))
	if err := k8s.Create(ctx, h); err != nil {
		t.Fatal(err)
	}
	apply(t, h.Object, edit{[]any{"spec", "accounts"}, []any{"someone-else"}})
	if err := k8s.Update(ctx, h); err == nil || !strings.Contains(err.Error(), "cannot change") {
		t.Fatalf("want a narrowed hold refused, got %v", err)
	}
}

func decode(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	obj := map[string]any{}
	if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: obj}
}
