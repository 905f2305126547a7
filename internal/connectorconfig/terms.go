package connectorconfig

import (
	"bufio"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// MaxTermsPerList bounds one termsFrom list (a ConfigMap key).
const MaxTermsPerList = 100000

// ParseTermLines reads a termsFrom list: one term a line; blank lines and
// lines starting with # are skipped so lexicons can carry comments.
func ParseTermLines(data string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// ConfigMapGetter returns a ConfigMap of the policy's namespace by name, with
// found false when there is none. The controller reads from the API server,
// `vigil scan` from the files it was given.
type ConfigMapGetter func(name string) (cm *corev1.ConfigMap, found bool, err error)

// ResolveTerms reads every termsFrom list of a policy, keyed by rule name. A
// missing ConfigMap or key, or a list over MaxTermsPerList, is a RuleError
// naming the rule; err is kept for lookups that failed.
func ResolveTerms(p *v1alpha1.CompliancePolicy, get ConfigMapGetter) (map[string][]string, []v1alpha1.RuleError, error) {
	var terms map[string][]string
	var errs []v1alpha1.RuleError
	for i := range p.Spec.Rules {
		rule := &p.Spec.Rules[i]
		if rule.Keywords == nil || rule.Keywords.TermsFrom == nil {
			continue
		}
		ref := rule.Keywords.TermsFrom
		fail := func(format string, args ...any) {
			errs = append(errs, v1alpha1.RuleError{Rule: rule.Name, Message: fmt.Sprintf(format, args...)})
		}
		cm, found, err := get(ref.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("while reading termsFrom ConfigMap %s: %w", ref.Name, err)
		}
		if !found {
			fail("termsFrom ConfigMap %s not found", ref.Name)
			continue
		}
		data, ok := cm.Data[ref.Key]
		if !ok {
			fail("termsFrom ConfigMap %s has no key %s", ref.Name, ref.Key)
			continue
		}
		list := ParseTermLines(data)
		if len(list) > MaxTermsPerList {
			fail("termsFrom ConfigMap %s key %s has %d terms; the limit is %d", ref.Name, ref.Key, len(list), MaxTermsPerList)
			continue
		}
		if terms == nil {
			terms = map[string][]string{}
		}
		terms[rule.Name] = list
	}
	return terms, errs, nil
}

// PolicyOf is the bundle entry of a policy with its resolved terms: named
// namespace/name, in Enforce mode unless it says Audit. Digest is left for
// the caller, who knows whether it is computed or read from status.
func PolicyOf(p *v1alpha1.CompliancePolicy, terms map[string][]string) Policy {
	mode := p.Spec.Mode
	if mode == "" {
		mode = v1alpha1.PolicyEnforce
	}
	return Policy{Name: p.Namespace + "/" + p.Name, Mode: mode, Rules: p.Spec.Rules, Terms: terms}
}
