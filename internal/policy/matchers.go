package policy

import (
	"strings"
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/policy/detect"
	"github.com/vigil-operator/vigil/internal/policy/link"
	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

// detectorFindings reports, for each detectors rule, the detections of its
// kinds at or above its minimum confidence. The scanner ran once for the
// union of every rule's detectors.
func (e *Engine) detectorFindings(ds []detect.Detection, out []capture.Finding) []capture.Finding {
	for _, r := range e.byKind[kindDetectors] {
		rule := &e.rules[r]
		n := 0
		for _, d := range ds {
			if !rule.detectors.Has(d.Kind) || d.Confidence < rule.minConfidence || n == maxFindingsPerRule {
				continue
			}
			f := e.finding(r)
			f.Detector = d.Kind.String()
			f.Confidence = d.Confidence
			f.Start, f.End = d.Start, d.End
			f.Evidence = d.Evidence
			out = append(out, f)
			n++
		}
	}
	return out
}

// regexFindings runs regex rules on the folded text (so a pattern written for
// ASCII digits also sees full-width ones), mapping matches back to the
// original bytes. A rule whose pattern starts with a literal is skipped
// cheaply when that literal is absent.
func (e *Engine) regexFindings(m *message, out []capture.Finding) []capture.Finding {
	for _, r := range e.byKind[kindRegex] {
		rule := &e.rules[r]
		if m.folded == nil {
			v := normalize.Fold(m.text, false)
			m.folded = &v
		}
		if rule.regexPrefix != "" && !strings.Contains(m.folded.Text, rule.regexPrefix) {
			continue
		}
		for _, loc := range rule.regex.FindAllStringIndex(m.folded.Text, maxFindingsPerRule) {
			if loc[0] == loc[1] {
				continue
			}
			f := e.finding(r)
			f.Detector = "regex"
			f.Confidence = 100
			f.Start, f.End = m.folded.Span(loc[0], loc[1])
			f.Evidence = mask(m.text[f.Start:f.End])
			out = append(out, f)
		}
	}
	return out
}

// linkFindings reports the riskiest signal of each link per links rule.
// Shorteners and open redirects count only when the rule asks for them, as
// do punycode and mixed scripts; block lists, brand look-alikes and raw IP
// hosts always do.
func (e *Engine) linkFindings(urls []link.URL, out []capture.Finding) []capture.Finding {
	for _, r := range e.byKind[kindLinks] {
		rule := &e.rules[r]
		n := 0
		for _, u := range urls {
			if n == maxFindingsPerRule {
				break
			}
			var best *link.Signal
			var kinds []string
			for _, sig := range rule.links.Check(u) {
				switch sig.Kind {
				case "shortener", "open-redirect":
					if !rule.linksSpec.Shorteners {
						continue
					}
				case "punycode", "mixed-script":
					if !rule.linksSpec.Punycode {
						continue
					}
				}
				kinds = append(kinds, sig.Kind)
				if best == nil || sig.Confidence > best.Confidence {
					best = &sig
				}
			}
			if best == nil {
				continue
			}
			f := e.finding(r)
			f.Detector = "link:" + best.Kind
			f.Confidence = best.Confidence
			f.Start, f.End = u.Start, u.End
			f.Evidence = linkEvidence(u, best, kinds)
			out = append(out, f)
			n++
		}
	}
	return out
}

// linkEvidence names the host and why it is risky; the path and query, which
// may carry personal data or tokens, are left out.
func linkEvidence(u link.URL, best *link.Signal, kinds []string) string {
	host := u.Display
	if host == "" {
		host = u.Host
	}
	s := host + " (" + strings.Join(kinds, ", ")
	if best.Brand != "" {
		s += "; looks like " + best.Brand
	}
	return s + ")"
}

// mask hides a matched value: at most the first and last two characters are
// shown, one asterisk for each hidden character.
func mask(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 4 {
		return strings.Repeat("*", n)
	}
	var b strings.Builder
	i := 0
	for _, r := range s {
		if i < 2 || i >= n-2 {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}
