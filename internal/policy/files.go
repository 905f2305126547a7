package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

// maxPolicyFileBytes bounds one policy file read by `vigil scan`.
const maxPolicyFileBytes = 64 << 20

// LoadFiles reads CompliancePolicies and the ConfigMaps their termsFrom
// refer to from YAML or JSON files (or folders of them, as kubectl apply -f
// takes them), and builds the bundle a connector would run. Documents of
// other kinds are skipped; unknown fields and dangling references are errors
// that name the file and document.
func LoadFiles(paths []string) (*cc.Bundle, error) {
	var policies []v1alpha1.CompliancePolicy
	configMaps := map[string]*corev1.ConfigMap{}
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := readBounded(f)
			if err != nil {
				return nil, err
			}
			ps, cms, err := ParseDocuments(b)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			policies = append(policies, ps...)
			for _, cm := range cms {
				configMaps[cm.Namespace+"/"+cm.Name] = cm
			}
		}
	}
	if len(policies) == 0 {
		return nil, errors.New("no CompliancePolicy found in the given files")
	}
	return BundleOf(policies, configMaps)
}

// BundleOf resolves termsFrom against the given ConfigMaps (keyed
// namespace/name) and returns the bundle.
func BundleOf(policies []v1alpha1.CompliancePolicy, configMaps map[string]*corev1.ConfigMap) (*cc.Bundle, error) {
	bundle := &cc.Bundle{}
	for i := range policies {
		p := policies[i]
		if p.Namespace == "" {
			p.Namespace = "default"
		}
		terms, ruleErrs, err := cc.ResolveTerms(&p, func(name string) (*corev1.ConfigMap, bool, error) {
			cm, ok := configMaps[p.Namespace+"/"+name]
			return cm, ok, nil
		})
		if err != nil {
			return nil, err
		}
		if len(ruleErrs) > 0 {
			return nil, fmt.Errorf("policy %s/%s rule %s: %s (is the ConfigMap in the given files?)", p.Namespace, p.Name, ruleErrs[0].Rule, ruleErrs[0].Message)
		}
		entry := cc.PolicyOf(&p, terms)
		digest, err := cc.PolicyDigest(entry)
		if err != nil {
			return nil, err
		}
		entry.Digest = digest
		bundle.Policies = append(bundle.Policies, entry)
	}
	sort.Slice(bundle.Policies, func(i, j int) bool { return bundle.Policies[i].Name < bundle.Policies[j].Name })
	return bundle, nil
}

// ParseDocuments decodes a multi-document YAML or JSON stream, keeping
// CompliancePolicies and ConfigMaps.
func ParseDocuments(b []byte) ([]v1alpha1.CompliancePolicy, []*corev1.ConfigMap, error) {
	var policies []v1alpha1.CompliancePolicy
	var configMaps []*corev1.ConfigMap
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", doc, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(raw, &head); err != nil {
			return nil, nil, fmt.Errorf("document %d: %w", doc, err)
		}
		switch {
		case head.Kind == "CompliancePolicy" && head.APIVersion == v1alpha1.GroupVersion.String():
			var p v1alpha1.CompliancePolicy
			if err := yaml.UnmarshalStrict(raw, &p); err != nil {
				return nil, nil, fmt.Errorf("document %d (CompliancePolicy): %w", doc, err)
			}
			policies = append(policies, p)
		case head.Kind == "ConfigMap" && head.APIVersion == "v1":
			cm := &corev1.ConfigMap{}
			if err := yaml.UnmarshalStrict(raw, cm); err != nil {
				return nil, nil, fmt.Errorf("document %d (ConfigMap): %w", doc, err)
			}
			if cm.Namespace == "" {
				cm.Namespace = "default"
			}
			configMaps = append(configMaps, cm)
		}
	}
	return policies, configMaps, nil
}

func expand(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("while reading policies: %w", err)
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, fmt.Errorf("while reading policies: %w", err)
	}
	var out []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
			out = append(out, filepath.Join(p, e.Name()))
		}
	}
	return out, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("while reading policies: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPolicyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("while reading %s: %w", path, err)
	}
	if len(b) > maxPolicyFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxPolicyFileBytes)
	}
	return b, nil
}
