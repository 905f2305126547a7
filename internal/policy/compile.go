// Package policy is the content-monitoring engine: every CompliancePolicy that
// selects an account compiles into one Engine (one term automaton across all
// lexicons, one candidate scanner for all detectors, compiled regexes, link
// and attachment checks, and CEL programs), and each message is folded and
// scanned once. Connectors and `vigil scan` run the same Engine; the
// CompliancePolicy controller compiles with it to report rule errors.
package policy

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/connectorconfig"
	policycel "github.com/vigil-operator/vigil/internal/policy/cel"
	"github.com/vigil-operator/vigil/internal/policy/detect"
	"github.com/vigil-operator/vigil/internal/policy/lexicon"
	"github.com/vigil-operator/vigil/internal/policy/link"
	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

// RuleError names a rule that did not compile. The Engine runs every other
// rule, so one bad rule does not blind an account.
type RuleError struct {
	Policy, Rule, Message string
}

func (e RuleError) Error() string {
	return fmt.Sprintf("policy %s rule %s: %s", e.Policy, e.Rule, e.Message)
}

type ruleKind uint8

const (
	kindKeywords ruleKind = iota
	kindRegex
	kindDetectors
	kindLinks
	kindAttachments
	kindExpression
)

// termRole says what a lexicon term is to a rule.
type termRole uint8

const (
	roleTerm termRole = iota
	roleException
	roleProximity
)

type termRef struct {
	rule int32
	role termRole
}

type compiledPolicy struct {
	name  string
	audit bool
}

type compiledRule struct {
	policy   int
	name     string
	category string
	severity string
	kind     ruleKind

	// keywords
	languages normalize.Languages
	within    int // proximity in characters; 0 when the rule has none

	regex       *regexp.Regexp
	regexPrefix string

	detectors     detect.Set
	minConfidence int

	links     *link.Checker
	linksSpec v1alpha1.LinksMatcher

	attachments *v1alpha1.AttachmentsMatcher

	expr *policycel.Program
}

// Stats describes a compiled Engine, for logs and metrics.
type Stats struct {
	Policies, Rules, Terms, States int
	CompileTime                    time.Duration
}

// Engine is a compiled policy bundle. It is immutable and safe for
// concurrent use; a new bundle compiles into a new Engine that replaces the
// old one atomically (see Holder).
type Engine struct {
	digest    string
	policies  []compiledPolicy
	rules     []compiledRule
	matcher   *lexicon.Matcher
	termRefs  [][]termRef
	detectSet detect.Set
	// byKind lists rule indexes per matcher kind, so each step visits
	// only its own rules.
	byKind [kindExpression + 1][]int
	stats  Stats
	opts   Options
}

// Options are what the Engine needs from its host.
type Options struct {
	// Attachments opens attachment content by SHA-256; nil checks names,
	// declared types and sizes only.
	Attachments AttachmentSource
	// AttachmentLimits bound the work one attachment may cost; zero means
	// attach.DefaultLimits.
	AttachmentLimits *AttachmentLimits
}

// Compile builds an Engine from a bundle. Rules that fail to compile are
// returned as errors and left out; the Engine runs the rest.
func Compile(b *connectorconfig.Bundle, opts Options) (*Engine, []RuleError) {
	began := time.Now()
	e := &Engine{opts: opts}
	var errs []RuleError
	lex := lexicon.NewBuilder()
	var refs [][]termRef
	addTerm := func(text string, ref termRef) error {
		id, err := lex.Add(text)
		if err != nil {
			return err
		}
		for int(id) >= len(refs) {
			refs = append(refs, nil)
		}
		for _, r := range refs[id] {
			if r == ref {
				return nil
			}
		}
		refs[id] = append(refs[id], ref)
		return nil
	}
	digests := make([]string, 0, len(b.Policies))
	for pi := range b.Policies {
		p := &b.Policies[pi]
		e.policies = append(e.policies, compiledPolicy{name: p.Name, audit: p.Mode == v1alpha1.PolicyAudit})
		digests = append(digests, p.Digest)
		for ri := range p.Rules {
			spec := &p.Rules[ri]
			rule := compiledRule{policy: pi, name: spec.Name, category: string(spec.Category), severity: string(spec.Severity)}
			idx := int32(len(e.rules))
			if err := compileRule(&rule, spec, p.Terms[spec.Name], idx, addTerm); err != nil {
				errs = append(errs, RuleError{Policy: p.Name, Rule: spec.Name, Message: err.Error()})
				continue
			}
			e.rules = append(e.rules, rule)
			e.byKind[rule.kind] = append(e.byKind[rule.kind], int(idx))
			if rule.kind == kindDetectors {
				e.detectSet |= rule.detectors
			}
		}
	}
	e.matcher = lex.Build()
	e.termRefs = refs
	e.digest = connectorconfig.Digest([]byte(strings.Join(digests, "\n")))
	e.stats = Stats{Policies: len(e.policies), Rules: len(e.rules), Terms: lex.Len(), States: e.matcher.States(), CompileTime: time.Since(began)}
	return e, errs
}

// compileRule fills rule from its spec; terms are the rule's termsFrom list.
func compileRule(rule *compiledRule, spec *v1alpha1.PolicyRule, terms []string, idx int32, addTerm func(string, termRef) error) error {
	matchers := 0
	for _, set := range []bool{spec.Keywords != nil, spec.Regex != nil, spec.Detectors != nil, spec.Links != nil, spec.Attachments != nil, spec.Expression != nil} {
		if set {
			matchers++
		}
	}
	if matchers != 1 {
		// The API server refuses this; bundles from files are checked here.
		return fmt.Errorf("a rule needs exactly one matcher, it has %d", matchers)
	}
	switch {
	case spec.Keywords != nil:
		rule.kind = kindKeywords
		return compileKeywords(rule, spec.Keywords, terms, idx, addTerm)
	case spec.Regex != nil:
		rule.kind = kindRegex
		// Regexes run on the folded text, which is lower-cased, so they
		// match case-insensitively.
		re, err := regexp.Compile("(?i)" + *spec.Regex)
		if err != nil {
			return fmt.Errorf("regex does not compile: %w", err)
		}
		rule.regex = re
		// The case-insensitive form has no literal prefix; the pattern as
		// written may, and lower-cased it must appear in the folded text.
		if plain, err := regexp.Compile(*spec.Regex); err == nil {
			if prefix, complete := plain.LiteralPrefix(); !complete {
				rule.regexPrefix = strings.ToLower(prefix)
			}
		}
		return nil
	case spec.Detectors != nil:
		rule.kind = kindDetectors
		for _, name := range spec.Detectors.Names {
			k, ok := detect.ParseKind(string(name))
			if !ok {
				return fmt.Errorf("unknown detector %s", name)
			}
			rule.detectors |= detect.SetOf(k)
		}
		rule.minConfidence = int(spec.Detectors.MinConfidence)
		return nil
	case spec.Links != nil:
		rule.kind = kindLinks
		c, err := link.NewChecker(link.Config{
			Shorteners: spec.Links.Shorteners, Punycode: spec.Links.Punycode,
			LookalikeOf: spec.Links.LookalikeOf, BlockDomains: spec.Links.BlockDomains, AllowDomains: spec.Links.AllowDomains,
		})
		if err != nil {
			return fmt.Errorf("links: %w", err)
		}
		rule.links, rule.linksSpec = c, *spec.Links
		return nil
	case spec.Attachments != nil:
		rule.kind = kindAttachments
		rule.attachments = spec.Attachments
		return nil
	case spec.Expression != nil:
		rule.kind = kindExpression
		prg, err := policycel.Compile(*spec.Expression)
		if err != nil {
			return err
		}
		rule.expr = prg
		return nil
	}
	return fmt.Errorf("the rule has no matcher")
}

func compileKeywords(rule *compiledRule, k *v1alpha1.KeywordsMatcher, fromConfigMap []string, idx int32, addTerm func(string, termRef) error) error {
	for _, code := range k.Languages {
		l, ok := normalize.ParseLanguage(string(code))
		if !ok {
			return fmt.Errorf("unknown language %s", code)
		}
		rule.languages |= l
	}
	n := 0
	for _, list := range [][]string{k.Terms, fromConfigMap} {
		for _, t := range list {
			if err := addTerm(t, termRef{rule: idx, role: roleTerm}); err != nil {
				return fmt.Errorf("keywords: %w", err)
			}
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("keywords has no terms")
	}
	for _, t := range k.Exceptions {
		if err := addTerm(t, termRef{rule: idx, role: roleException}); err != nil {
			return fmt.Errorf("keywords.exceptions: %w", err)
		}
	}
	if k.Proximity != nil {
		rule.within = int(k.Proximity.Within)
		for _, t := range k.Proximity.Terms {
			if err := addTerm(t, termRef{rule: idx, role: roleProximity}); err != nil {
				return fmt.Errorf("keywords.proximity: %w", err)
			}
		}
	}
	return nil
}

// Digest identifies the bundle the Engine was compiled from.
func (e *Engine) Digest() string { return e.digest }

// Stats describes the Engine.
func (e *Engine) Stats() Stats { return e.stats }
