package simulator

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/spool"
)

func TestParseSettings(t *testing.T) {
	tests := []struct {
		in       map[string]string
		rate     float64
		seed     int64
		wantFail bool
	}{
		{map[string]string{}, defaultRate, 1, false},
		{map[string]string{SettingRate: "600", SettingSeed: "-9"}, 600, -9, false},
		{map[string]string{SettingRate: "0.5"}, 0.5, 1, false},
		{map[string]string{SettingRate: "0"}, 0, 0, true},
		{map[string]string{SettingRate: "NaN"}, 0, 0, true},
		{map[string]string{SettingRate: "1e9"}, 0, 0, true},
		{map[string]string{SettingSeed: "x"}, 0, 0, true},
	}
	for _, tc := range tests {
		rate, seed, err := parseSettings(tc.in)
		if (err != nil) != tc.wantFail || (!tc.wantFail && (rate != tc.rate || seed != tc.seed)) {
			t.Errorf("parseSettings(%v) = %v, %v, %v", tc.in, rate, seed, err)
		}
	}
}

// countingSink refuses the first few batches as "spool full", then accepts.
type countingSink struct {
	mu       sync.Mutex
	refusals int
	got      []*capture.Record
}

func (s *countingSink) Capture(_ context.Context, recs []*capture.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusals > 0 {
		s.refusals--
		return fmt.Errorf("wrapped: %w", spool.ErrSpoolFull)
	}
	s.got = append(s.got, recs...)
	return nil
}

func (s *countingSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

func TestRunEmitsAtRateAndSurvivesFullSpool(t *testing.T) {
	ch, err := New(connector.ChannelParams{Settings: map[string]string{SettingRate: "6000", SettingSeed: "3"}, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	sink := &countingSink{refusals: 2}
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	if err := ch.Run(ctx, sink); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// 6000/min is 100/s; over 0.7 s with two refused ticks expect roughly
	// 40 to 70 messages, and certainly no holes in the sequence.
	n := sink.count()
	if n < 20 || n > 90 {
		t.Fatalf("emitted %d messages in 0.7 s at 100/s", n)
	}
	for i, r := range sink.got {
		if want := fmt.Sprintf("-%08d", i+1); r.NativeID[len(r.NativeID)-len(want):] != want {
			t.Fatalf("message %d has nativeID %s: a batch was lost or reordered", i, r.NativeID)
		}
	}
}
