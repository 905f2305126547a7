// Package connectorconfig is the contract between the operator and a connector
// pod: the files the MonitoredAccount controller renders into the connector's
// ConfigMap, and the paths where the pod sees them.
package connectorconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// Keys of the connector ConfigMap and the paths the pod mounts.
const (
	ConfigKey       = "config.json"
	PoliciesKey     = "policies.json"
	ConfigDir       = "/etc/vigil/connector"
	CredentialsDir  = "/etc/vigil/credentials"
	TokenDir        = "/var/run/secrets/vigil"
	TokenFile       = "archive-token"
	SpoolDir        = "/var/lib/vigil/spool"
	TmpDir          = "/tmp"
	ArchiveAudience = "vigil-archive"
	HTTPPort        = 8080
)

// File is config.json: who the connector captures for and how.
type File struct {
	// Account is the MonitoredAccount as "namespace/name".
	Account    string                `json:"account"`
	Channel    v1alpha1.Channel      `json:"channel"`
	ExternalID string                `json:"externalID"`
	Custodian  v1alpha1.Custodian    `json:"custodian"`
	Capture    v1alpha1.CaptureSpec  `json:"capture"`
	Privacy    v1alpha1.PrivacyMode  `json:"privacy"`
	State      v1alpha1.AccountState `json:"state"`
	// Simulator settings for the Simulator channel.
	Simulator *v1alpha1.SimulatorSpec `json:"simulator,omitempty"`
	// WeCom settings for the WeCom channels.
	WeCom *v1alpha1.WeComSpec `json:"wecom,omitempty"`
	// WeChatOfficialAccount settings for the Official Account channel.
	WeChatOfficialAccount *v1alpha1.WeChatOfficialAccountSpec `json:"wechatOfficialAccount,omitempty"`
	// CredentialKeys lists the Secret keys the channel reads, so the connector
	// can fail fast with a clear message when one is missing.
	CredentialKeys []string `json:"credentialKeys,omitempty"`
}

// Marshal encodes the file canonically (sorted keys, no HTML escaping).
func (f *File) Marshal() ([]byte, error) {
	return canonicalJSON(f)
}

// Digest is the SHA-256 of the canonical encoding, used as a pod-template
// annotation so that a changed identity restarts the connector.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Load reads config.json from a directory.
func Load(dir string) (*File, error) {
	b, err := os.ReadFile(filepath.Join(dir, ConfigKey))
	if err != nil {
		return nil, fmt.Errorf("while reading connector config: %w", err)
	}
	f := new(File)
	if err := json.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("while decoding connector config %s: %w", filepath.Join(dir, ConfigKey), err)
	}
	if f.Account == "" || f.Channel == "" {
		return nil, fmt.Errorf("connector config %s names no account or channel", filepath.Join(dir, ConfigKey))
	}
	return f, nil
}

func canonicalJSON(v any) ([]byte, error) {
	// Round-tripping through a generic value sorts map keys; struct field order
	// is already fixed, so the encoding is stable across runs.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, err
	}
	return json.Marshal(generic)
}
