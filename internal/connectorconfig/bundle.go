package connectorconfig

import (
	"encoding/json"
	"fmt"
	"sort"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// Policy is one CompliancePolicy as a connector runs it: the spec's rules with
// every termsFrom ConfigMap already read, so the connector needs no API access.
type Policy struct {
	// Name is "namespace/name" of the CompliancePolicy.
	Name  string                `json:"name"`
	Mode  v1alpha1.PolicyMode   `json:"mode"`
	Rules []v1alpha1.PolicyRule `json:"rules"`
	// Terms holds, per rule name, the terms read from its termsFrom ConfigMap.
	Terms map[string][]string `json:"terms,omitempty"`
	// Digest is the policy's own bundle digest, as in its status.
	Digest string `json:"digest"`
}

// Bundle is policies.json: every policy that selects the account.
type Bundle struct {
	Policies []Policy `json:"policies"`
}

// Marshal encodes the bundle canonically, policies sorted by name.
func (b *Bundle) Marshal() ([]byte, error) {
	sort.Slice(b.Policies, func(i, j int) bool { return b.Policies[i].Name < b.Policies[j].Name })
	return canonicalJSON(b)
}

// PolicyDigest is the digest of one policy's canonical form.
func PolicyDigest(p Policy) (string, error) {
	p.Digest = ""
	b, err := canonicalJSON(p)
	if err != nil {
		return "", fmt.Errorf("while encoding policy %s: %w", p.Name, err)
	}
	return Digest(b), nil
}

// ParseBundle decodes policies.json.
func ParseBundle(b []byte) (*Bundle, error) {
	out := new(Bundle)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("while decoding policy bundle: %w", err)
	}
	return out, nil
}
