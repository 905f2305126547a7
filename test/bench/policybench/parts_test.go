package main

import (
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/policy/detect"
	lex "github.com/vigil-operator/vigil/internal/policy/lexicon"
	"github.com/vigil-operator/vigil/internal/policy/link"
	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

// The engine's passes one at a time on the policybench corpus (8 MiB, 10,000
// terms), to see where a full evaluation's time goes. Run with
// `go test -bench . ./test/bench/policybench`.

func benchCorpus(b *testing.B) (messages []string, terms []string, size int) {
	b.Helper()
	terms = lexicon(1, 10000)
	gen := newCorpus(2, terms)
	for size < 8<<20 {
		m := gen.message(40 + gen.rng.IntN(400))
		messages = append(messages, m)
		size += len(m) + 1
	}
	return messages, terms, size
}

func BenchmarkLexiconScan(b *testing.B) {
	messages, terms, size := benchCorpus(b)
	lb := lex.NewBuilder()
	for _, t := range terms {
		if _, err := lb.Add(t); err != nil {
			b.Fatal(err)
		}
	}
	m := lb.Build()
	var hits []lex.Hit
	b.SetBytes(int64(size))
	n := 0
	for b.Loop() {
		n = 0
		for _, msg := range messages {
			var st lex.Stats
			hits = m.Scan(msg, hits[:0], &st)
			n += len(hits)
		}
	}
	b.ReportMetric(float64(n), "hits/op")
}

func BenchmarkDetectScan(b *testing.B) {
	messages, _, size := benchCorpus(b)
	s := detect.NewScanner()
	var out []detect.Detection
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, msg := range messages {
			out = s.Scan(msg, detect.All, out[:0])
		}
	}
}

func BenchmarkLinkExtract(b *testing.B) {
	messages, _, size := benchCorpus(b)
	var out []link.URL
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, msg := range messages {
			out = link.Extract(msg, out[:0])
		}
	}
}

// BenchmarkFoldEveryRune is the floor of any engine that folds text: decode
// every rune and look up its fold, nothing else.
func BenchmarkFoldEveryRune(b *testing.B) {
	messages, _, size := benchCorpus(b)
	b.SetBytes(int64(size))
	var text int
	for b.Loop() {
		text = 0
		for _, msg := range messages {
			for _, r := range msg {
				if normalize.Lookup(r).Kind() == normalize.KindText {
					text++
				}
			}
		}
	}
	b.ReportMetric(float64(text), "symbols/op")
}

// BenchmarkByteLoop is the floor of touching every byte once: a library
// search for one character, word at a time.
func BenchmarkByteLoop(b *testing.B) {
	messages, _, size := benchCorpus(b)
	b.SetBytes(int64(size))
	var sum int
	for b.Loop() {
		for _, msg := range messages {
			sum += strings.Count(msg, "的")
		}
	}
	_ = sum
}
