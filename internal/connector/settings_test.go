package connector

import (
	"context"
	"testing"
	"time"
)

func TestSettings(t *testing.T) {
	s := map[string]string{"n": "12", "bad": "0", "word": "many", "d": "90s", "neg": "-1s"}
	if n, err := PositiveIntSetting(s, "n", 5); err != nil || n != 12 {
		t.Errorf("n = %d, %v", n, err)
	}
	if n, err := PositiveIntSetting(s, "missing", 5); err != nil || n != 5 {
		t.Errorf("default = %d, %v", n, err)
	}
	for _, k := range []string{"bad", "word"} {
		if _, err := PositiveIntSetting(s, k, 5); err == nil {
			t.Errorf("%s accepted", k)
		}
	}
	if d, err := DurationSetting(s, "d", time.Minute); err != nil || d != 90*time.Second {
		t.Errorf("d = %s, %v", d, err)
	}
	if d, err := DurationSetting(s, "missing", time.Minute); err != nil || d != time.Minute {
		t.Errorf("default = %s, %v", d, err)
	}
	for _, k := range []string{"neg", "word"} {
		if _, err := DurationSetting(s, k, time.Minute); err == nil {
			t.Errorf("%s accepted", k)
		}
	}
}

func TestPushOnlyRunWaitsForStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- PushOnly{}.Run(ctx, nil) }()
	select {
	case <-done:
		t.Fatal("Run returned before the connector stopped")
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
