package inbound

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// maxTimestampDigits keeps unix-second timestamps in a sane range (until
// year 33658) and stops huge numbers from overflowing.
const maxTimestampDigits = 12

// ParseUnixSeconds reads a decimal unix time in seconds.
func ParseUnixSeconds(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("timestamp is missing")
	}
	if len(s) > maxTimestampDigits {
		return time.Time{}, fmt.Errorf("timestamp has more than %d digits", maxTimestampDigits)
	}
	// Digits only (no sign, no spaces), so that exactly the signed bytes are
	// what is interpreted.
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, errors.New("timestamp must be unix seconds in decimal digits")
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp: %w", err)
	}
	return time.Unix(n, 0), nil
}

// CheckFresh refuses a signed timestamp more than window away from now in
// either direction. Channels call it after the signature verifies, so only
// authentic requests learn about the connector's clock.
func CheckFresh(ts, now time.Time, window time.Duration) *Rejection {
	if skew := now.Sub(ts); skew > window || skew < -window {
		return Unauthorized(ReasonStaleTimestamp,
			fmt.Errorf("timestamp is %s away from the connector's clock; the window is %s", skew.Round(time.Second), window))
	}
	return nil
}
