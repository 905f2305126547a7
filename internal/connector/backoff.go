package connector

import (
	"math/rand/v2"
	"time"
)

// backoff produces exponentially growing waits with jitter, so that many
// connectors retrying against a recovering archive spread out.
type backoff struct {
	initial time.Duration
	max     time.Duration
	attempt int
	rng     *rand.Rand
}

func newBackoff(initial, maxWait time.Duration, seed uint64) *backoff {
	return &backoff{initial: initial, max: maxWait, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// next returns the wait before the next attempt: a random duration in
// [d/2, d] where d doubles each attempt up to the cap. A server's hint raises
// the wait, but never above the cap.
func (b *backoff) next(hint time.Duration) time.Duration {
	d := b.initial
	for i := 0; i < b.attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.attempt++
	wait := d/2 + time.Duration(b.rng.Int64N(int64(d/2)+1))
	return min(max(wait, hint), b.max)
}

// reset starts again from the initial wait after a success.
func (b *backoff) reset() { b.attempt = 0 }
