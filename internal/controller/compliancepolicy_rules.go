package controller

import (
	"bufio"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/cel-go/cel"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// maxTermsPerConfigMap bounds one termsFrom list.
const maxTermsPerConfigMap = 100000

// ruleExpressionEnv declares what a rule's CEL expression may read: the
// capture.v1 record and the findings of earlier rules.
var ruleExpressionEnv = func() *cel.Env {
	env, err := cel.NewEnv(
		cel.Variable("record", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("findings", cel.ListType(cel.MapType(cel.StringType, cel.DynType))),
	)
	if err != nil {
		panic(fmt.Sprintf("rule expression environment: %v", err))
	}
	return env
}()

// validateRules checks what admission cannot: regexes compile, expressions
// type-check to a boolean, termsFrom ConfigMaps exist, domains are domains. It
// returns every rule's error by name and the terms read from ConfigMaps.
func (r *CompliancePolicyReconciler) validateRules(ctx context.Context, policy *v1alpha1.CompliancePolicy) ([]v1alpha1.RuleError, map[string][]string, error) {
	var errs []v1alpha1.RuleError
	fail := func(rule, format string, args ...any) {
		errs = append(errs, v1alpha1.RuleError{Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	for i := range policy.Spec.Rules {
		rule := &policy.Spec.Rules[i]
		switch {
		case rule.Regex != nil:
			if _, err := regexp.Compile(*rule.Regex); err != nil {
				fail(rule.Name, "regex does not compile: %v", err)
			}
		case rule.Expression != nil:
			if msg := checkExpression(*rule.Expression); msg != "" {
				fail(rule.Name, "%s", msg)
			}
		case rule.Links != nil:
			for _, d := range append(append(append([]string{}, rule.Links.LookalikeOf...), rule.Links.BlockDomains...), rule.Links.AllowDomains...) {
				if errsDNS := validation.IsDNS1123Subdomain(strings.ToLower(d)); len(errsDNS) > 0 {
					fail(rule.Name, "%q is not a domain name", d)
					break
				}
			}
		case rule.Keywords != nil:
			for _, term := range rule.Keywords.Terms {
				if strings.TrimSpace(term) == "" {
					fail(rule.Name, "keywords.terms has a blank term")
					break
				}
			}
		}
	}
	terms, termErrs, err := readTermsFromChecked(ctx, r.Client, policy)
	if err != nil {
		return nil, nil, err
	}
	errs = append(errs, termErrs...)
	return errs, terms, nil
}

func checkExpression(expr string) string {
	ast, iss := ruleExpressionEnv.Compile(expr)
	if iss.Err() != nil {
		return "expression does not compile: " + iss.Err().Error()
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return fmt.Sprintf("expression must be a boolean, it is %s", t)
	}
	return ""
}

// readTermsFrom reads every termsFrom list of a policy; a missing ConfigMap or
// key is an error here, as the policy controller has already reported it.
func readTermsFrom(ctx context.Context, c client.Client, policy *v1alpha1.CompliancePolicy) (map[string][]string, error) {
	terms, errs, err := readTermsFromChecked(ctx, c, policy)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("policy %s rule %s: %s", policy.Name, errs[0].Rule, errs[0].Message)
	}
	return terms, nil
}

func readTermsFromChecked(ctx context.Context, c client.Client, policy *v1alpha1.CompliancePolicy) (map[string][]string, []v1alpha1.RuleError, error) {
	var terms map[string][]string
	var errs []v1alpha1.RuleError
	for i := range policy.Spec.Rules {
		rule := &policy.Spec.Rules[i]
		if rule.Keywords == nil || rule.Keywords.TermsFrom == nil {
			continue
		}
		ref := rule.Keywords.TermsFrom
		cm := &corev1.ConfigMap{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: policy.Namespace, Name: ref.Name}, cm); err != nil {
			if apierrors.IsNotFound(err) {
				errs = append(errs, v1alpha1.RuleError{Rule: rule.Name, Message: fmt.Sprintf("termsFrom ConfigMap %s not found", ref.Name)})
				continue
			}
			return nil, nil, fmt.Errorf("while reading termsFrom ConfigMap %s: %w", ref.Name, err)
		}
		data, ok := cm.Data[ref.Key]
		if !ok {
			errs = append(errs, v1alpha1.RuleError{Rule: rule.Name, Message: fmt.Sprintf("termsFrom ConfigMap %s has no key %s", ref.Name, ref.Key)})
			continue
		}
		list := parseTermLines(data)
		if len(list) > maxTermsPerConfigMap {
			errs = append(errs, v1alpha1.RuleError{Rule: rule.Name, Message: fmt.Sprintf("termsFrom ConfigMap %s key %s has %d terms; the limit is %d", ref.Name, ref.Key, len(list), maxTermsPerConfigMap)})
			continue
		}
		if terms == nil {
			terms = map[string][]string{}
		}
		terms[rule.Name] = list
	}
	return terms, errs, nil
}

// parseTermLines reads one term a line; blank lines and lines starting with #
// are skipped so lexicons can carry comments.
func parseTermLines(data string) []string {
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
