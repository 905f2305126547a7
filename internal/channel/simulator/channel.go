package simulator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/spool"
)

// Setting keys.
const (
	// SettingRate is messages per minute (default 30, at most 60000).
	SettingRate = "rate"
	// SettingSeed makes the traffic repeatable (default 1).
	SettingSeed = "seed"

	defaultRate = 30
	maxRate     = 60000
	// minTick bounds wake-ups; at high rates several messages go per tick,
	// spooled as one batch with one fsync.
	minTick = 100 * time.Millisecond
)

// Channel emits simulated traffic at a steady rate.
type Channel struct {
	rate      float64
	seed      int64
	custodian string
	log       logr.Logger
	now       func() time.Time
}

var _ connector.Channel = (*Channel)(nil)

// Factory builds the channel from its settings.
func Factory(p connector.ChannelParams) (connector.Channel, error) { return New(p) }

// New parses the settings.
func New(p connector.ChannelParams) (*Channel, error) {
	rate, seed, err := parseSettings(p.Settings)
	if err != nil {
		return nil, err
	}
	return &Channel{rate: rate, seed: seed, custodian: p.Custodian, log: p.Logger, now: time.Now}, nil
}

func parseSettings(s map[string]string) (rate float64, seed int64, err error) {
	rate, seed = defaultRate, 1
	if v, ok := s[SettingRate]; ok {
		rate, err = strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(rate) || rate <= 0 || rate > maxRate {
			return 0, 0, fmt.Errorf("setting %s must be a number of messages per minute in (0, %d], got %q", SettingRate, maxRate, v)
		}
	}
	if v, ok := s[SettingSeed]; ok {
		seed, err = strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("setting %s must be an integer, got %q", SettingSeed, v)
		}
	}
	return rate, seed, nil
}

// Name implements connector.Channel.
func (c *Channel) Name() string { return ChannelName }

// Run generates messages until ctx ends. When the spool is full it holds the
// pending batch and retries it, generating nothing new meanwhile, so the
// simulated stream has no holes.
func (c *Channel) Run(ctx context.Context, sink connector.Sink) error {
	start := c.now()
	gen := NewGenerator(c.seed, strconv.FormatInt(start.Unix(), 36), c.custodian)
	interval := max(time.Duration(float64(time.Minute)/c.rate), minTick)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var (
		due     float64 // messages owed since the last tick, fractional
		last    = start
		pending []*capture.Record
	)
	c.log.Info("simulator running", "ratePerMinute", c.rate, "seed", c.seed)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		now := c.now()
		if len(pending) == 0 {
			due += c.rate * now.Sub(last).Minutes()
			n := int(due)
			due -= float64(n)
			for i := 0; i < n; i++ {
				pending = append(pending, gen.Next(now))
			}
		}
		last = now
		if len(pending) == 0 {
			continue
		}
		err := sink.Capture(ctx, pending)
		switch {
		case err == nil:
			pending = nil
		case errors.Is(err, spool.ErrSpoolFull):
			c.log.V(1).Info("spool full; holding simulated batch", "records", len(pending))
		case ctx.Err() != nil:
			return nil
		default:
			return fmt.Errorf("while capturing simulated messages: %w", err)
		}
	}
}
