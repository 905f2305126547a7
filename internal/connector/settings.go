package connector

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// PushOnly is embedded by channels whose capture happens entirely in their
// webhook handler: Run only waits for the connector to stop.
type PushOnly struct{}

// Run implements Channel.
func (PushOnly) Run(ctx context.Context, _ Sink) error {
	<-ctx.Done()
	return nil
}

// PositiveIntSetting reads an optional positive integer channel setting.
func PositiveIntSetting(settings map[string]string, key string, def int) (int, error) {
	v, ok := settings[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("setting %s must be a positive integer, got %q", key, v)
	}
	return n, nil
}

// DurationSetting reads an optional positive Go duration channel setting
// ("90s", "5m").
func DurationSetting(settings map[string]string, key string, def time.Duration) (time.Duration, error) {
	v, ok := settings[key]
	if !ok {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("setting %s must be a positive duration such as 90s or 5m, got %q", key, v)
	}
	return d, nil
}
