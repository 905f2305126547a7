// Command policybench measures the policy engine on a generated
// mixed-language chat corpus, beside its peers in the same run:
//
//   - ripgrep's literal scan, `rg -F -c -f terms corpus` (literals only: no
//     folding, no detectors, no rules), on the same corpus and lexicon;
//   - a naive engine with one Go regexp per rule (an alternation of the
//     rule's terms, and the usual identifier regexes), on a slice of it.
//
// It also reports per-message latency with a 50,000-term bundle and the time
// to compile 50,000 terms. Figures are single-core: the engine runs on one
// goroutine, and ripgrep searches one file on one thread.
//
//	go run ./test/bench/policybench [--size-mb 50] [--terms 10000]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/capture"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/policy"
)

func main() {
	sizeMB := flag.Int("size-mb", 50, "corpus size in MiB")
	nTerms := flag.Int("terms", 10000, "lexicon size for the throughput run")
	naiveKB := flag.Int("naive-kb", 128, "KiB of the corpus the naive regexp engine scans (it is very slow)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the engine's run here")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	if err := run(*sizeMB, *nTerms, *naiveKB, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "policybench:", err)
		os.Exit(1)
	}
}

// categories split the lexicon into rules as a compliance team would.
var categories = []v1alpha1.Category{"InsiderTrading", "MarketManipulation", "MoneyLaundering", "GiftsEntertainment", "OffChannel", "CustomerComplaint", "Custom"}

func bundleFor(terms []string) *cc.Bundle {
	var rules []v1alpha1.PolicyRule
	per := (len(terms) + len(categories) - 1) / len(categories)
	p := cc.Policy{Name: "bench/lexicons", Mode: v1alpha1.PolicyEnforce, Terms: map[string][]string{}}
	for i, cat := range categories {
		name := strings.ToLower(string(cat))
		lo, hi := i*per, min((i+1)*per, len(terms))
		rules = append(rules, v1alpha1.PolicyRule{
			Name: name, Category: cat, Severity: v1alpha1.Severity("High"),
			Keywords: &v1alpha1.KeywordsMatcher{TermsFrom: &v1alpha1.ConfigMapKeyReference{Name: "lexicon", Key: name}},
		})
		p.Terms[name] = terms[lo:hi]
	}
	all := []v1alpha1.Detector{"ChinaResidentID", "HongKongID", "TaiwanID", "ChinaMobile", "UnionPayCard", "PaymentCard", "IBAN", "SWIFT", "USCC", "Email", "CryptoAddress", "Passport"}
	rules = append(rules,
		v1alpha1.PolicyRule{Name: "identifiers", Category: "PersonalData", Severity: "High", Detectors: &v1alpha1.DetectorsMatcher{Names: all, MinConfidence: 50}},
		v1alpha1.PolicyRule{Name: "links", Category: "Phishing", Severity: "High", Links: &v1alpha1.LinksMatcher{Shorteners: true, Punycode: true}},
	)
	p.Rules = rules
	return &cc.Bundle{Policies: []cc.Policy{p}}
}

func run(sizeMB, nTerms, naiveKB int, profile string) error {
	dir, err := os.MkdirTemp("", "policybench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	terms := lexicon(1, nTerms)
	gen := newCorpus(2, terms)
	var messages []string
	var corpus strings.Builder
	for corpus.Len() < sizeMB<<20 {
		m := gen.message(40 + gen.rng.IntN(400))
		messages = append(messages, m)
		corpus.WriteString(m)
		corpus.WriteByte('\n')
	}
	corpusPath, termsPath := filepath.Join(dir, "corpus.txt"), filepath.Join(dir, "terms.txt")
	if err := os.WriteFile(corpusPath, []byte(corpus.String()), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(termsPath, []byte(strings.Join(terms, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	total := corpus.Len()
	fmt.Printf("corpus: %.1f MiB, %d messages (Simplified, Traditional, Cantonese, English, mixed); lexicon: %d terms; all 12 detectors; link checks\n\n",
		float64(total)/(1<<20), len(messages), len(terms))

	engine, errs := policy.Compile(bundleFor(terms), policy.Options{})
	if len(errs) > 0 {
		return fmt.Errorf("compile: %v", errs)
	}
	ctx := context.Background()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	// The median of three runs: one run is under a second, and this
	// machine's neighbours make single runs vary by a third.
	rec := &capture.Record{}
	vigil, findings := median3(func() (time.Duration, int) {
		began, n := time.Now(), 0
		for _, m := range messages {
			rec.Text = m
			n += len(engine.Evaluate(ctx, rec))
		}
		return time.Since(began), n
	})
	if profile != "" {
		pprof.StopCPUProfile()
	}
	fmt.Printf("%-46s %8.1f MB/s  (%d findings)\n", "vigil engine, full evaluation, 1 core", mbps(total, vigil), findings)

	rgPath, err := exec.LookPath("rg")
	if err != nil {
		return fmt.Errorf("ripgrep is the peer of this benchmark; install it (hack/install-deps.sh bench): %w", err)
	}
	var out []byte
	rgTime, _ := median3(func() (time.Duration, int) {
		began := time.Now()
		out, err = exec.Command(rgPath, "-F", "-c", "-j1", "--no-config", "-f", termsPath, corpusPath).Output()
		return time.Since(began), 0
	})
	if err != nil && len(out) == 0 {
		return fmt.Errorf("rg: %w", err)
	}
	rgLines, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	fmt.Printf("%-46s %8.1f MB/s  (%d matching lines; literals only)\n", "ripgrep rg -F -f terms, 1 thread", mbps(total, rgTime), rgLines)

	naive := newNaiveEngine(terms)
	slice := messages
	for n, i := 0, 0; i < len(messages); i++ {
		n += len(messages[i]) + 1
		if n >= naiveKB<<10 {
			slice = messages[:i+1]
			break
		}
	}
	sliceBytes, naiveFindings := 0, 0
	began := time.Now()
	for _, m := range slice {
		sliceBytes += len(m) + 1
		naiveFindings += naive.count(m)
	}
	naiveTime := time.Since(began)
	fmt.Printf("%-46s %8.3f MB/s  (on the first %d KiB; %d matches)\n", "naive engine, one regexp per rule, 1 core", mbps(sliceBytes, naiveTime), sliceBytes>>10, naiveFindings)
	fmt.Printf("\nvigil / ripgrep: %.1fx   vigil / naive: %.0fx\n\n", mbps(total, vigil)/mbps(total, rgTime), mbps(total, vigil)/mbps(sliceBytes, naiveTime))

	// Compile and latency with the large lexicon a bank might load.
	big := lexicon(3, 50000)
	began = time.Now()
	bigEngine, errs := policy.Compile(bundleFor(big), policy.Options{})
	compile := time.Since(began)
	if len(errs) > 0 {
		return fmt.Errorf("compile: %v", errs)
	}
	fmt.Printf("compile 50,000 terms (+ detectors, links): %v\n", compile.Round(time.Millisecond))
	lat := newCorpus(4, big)
	var samples []time.Duration
	for range 20000 {
		rec.Text = lat.message(1024)
		t0 := time.Now()
		bigEngine.Evaluate(ctx, rec)
		samples = append(samples, time.Since(t0))
	}
	slices.Sort(samples)
	fmt.Printf("1 KB message, 50,000 terms: p50 %v  p99 %v  max %v  (%d messages)\n",
		samples[len(samples)/2], samples[len(samples)*99/100], samples[len(samples)-1], len(samples))
	return nil
}

func mbps(n int, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

// median3 runs f three times and returns the median duration, with the count
// of the first run.
func median3(f func() (time.Duration, int)) (time.Duration, int) {
	d0, n := f()
	d1, _ := f()
	d2, _ := f()
	ds := []time.Duration{d0, d1, d2}
	slices.Sort(ds)
	return ds[1], n
}

// naiveEngine is what a first attempt looks like: every rule one regexp (its
// terms joined with |, case-insensitive) and the usual identifier patterns,
// each run over the whole message. No folding: it misses Traditional,
// full-width and spaced forms that the engine catches.
type naiveEngine struct{ rules []*regexp.Regexp }

func newNaiveEngine(terms []string) *naiveEngine {
	n := &naiveEngine{}
	per := (len(terms) + len(categories) - 1) / len(categories)
	for i := range categories {
		lo, hi := i*per, min((i+1)*per, len(terms))
		quoted := make([]string, 0, hi-lo)
		for _, t := range terms[lo:hi] {
			quoted = append(quoted, regexp.QuoteMeta(t))
		}
		n.rules = append(n.rules, regexp.MustCompile("(?i)"+strings.Join(quoted, "|")))
	}
	for _, p := range []string{
		`[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]`, // PRC ID
		`1[3-9]\d{9}`,                                        // mobile
		`\b(?:\d[ -]?){13,19}\b`,                             // cards
		`[A-Z]{1,2}\d{6}\(?[0-9A]\)?`,                        // HKID
		`[A-Z][12]\d{8}`,                                     // Taiwan ID
		`[A-Z]{2}\d{2}[A-Z0-9]{11,30}`,                       // IBAN
		`[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}`, // USCC
		`[\w.+-]+@[\w-]+\.[\w.-]+`,                           // email
		`T[1-9A-HJ-NP-Za-km-z]{33}|0x[0-9a-fA-F]{40}|bc1[02-9ac-hj-np-z]{11,71}`, // crypto
		`https?://[^\s]+`, // links
	} {
		n.rules = append(n.rules, regexp.MustCompile(p))
	}
	return n
}

func (n *naiveEngine) count(text string) int {
	c := 0
	for _, re := range n.rules {
		c += len(re.FindAllStringIndex(text, -1))
	}
	return c
}
