package keys

import (
	"fmt"
	"time"
)

// Bucket is the calendar month, in UTC, in which records expire. All records
// of one account whose retention ends in the same month share one DEK.
//
// Why a month: a purge destroys whole buckets, so a record can outlive its
// retention by at most the bucket's width. A month keeps that overstay under
// 31 days (a year would keep data up to 12 months too long, which data
// minimisation rules frown on) while keeping the key count small: 1,000
// accounts over 7 years is 84,000 DEKs, where daily buckets would need 2.5
// million and as many KEK calls at cold start. Retention periods are set in
// years and months and purges run on schedules, so a month also lines up
// with WORM segment retain-until dates and with how auditors read purges.
//
// Why UTC: the bucket must not depend on the time zone of the pod that
// captured the record, or two replicas would pick different keys.
type Bucket struct {
	Year  int
	Month time.Month
}

// BucketOf returns the bucket holding the instant t.
func BucketOf(t time.Time) Bucket {
	u := t.UTC()
	return Bucket{Year: u.Year(), Month: u.Month()}
}

// Retention is a retention period in calendar units, so that seven years
// means seven calendar years and not 7×365 days. Clock is a fixed duration
// added after the calendar units (PT10M-style test rules).
type Retention struct {
	Years, Months, Days int
	Clock               time.Duration
}

// ExpiresAt is when a record captured at capturedAt leaves retention. The
// arithmetic is done in UTC: AddDate in a local zone would shift instants
// across daylight-saving changes. AddDate normalises overflowing dates, so
// 29 February + 1 year is 1 March, and 31 January + 1 month is 2 or 3 March:
// never earlier than the calendar period, so never an early purge.
func (r Retention) ExpiresAt(capturedAt time.Time) time.Time {
	return capturedAt.UTC().AddDate(r.Years, r.Months, r.Days).Add(r.Clock)
}

// ExpiryBucket is the bucket of a record captured at capturedAt and kept for
// retention: the UTC calendar month in which captured_at + retention falls.
func ExpiryBucket(capturedAt time.Time, retention Retention) Bucket {
	return BucketOf(retention.ExpiresAt(capturedAt))
}

// Start is the first instant of the bucket.
func (b Bucket) Start() time.Time { return time.Date(b.Year, b.Month, 1, 0, 0, 0, 0, time.UTC) }

// End is the first instant after the bucket. Every record in it has left
// retention by then, so End is the earliest time the bucket may be shredded.
func (b Bucket) End() time.Time { return b.Start().AddDate(0, 1, 0) }

// Next is the following month.
func (b Bucket) Next() Bucket { return BucketOf(b.End()) }

// String is "YYYY-MM".
func (b Bucket) String() string { return fmt.Sprintf("%04d-%02d", b.Year, int(b.Month)) }

// IsZero reports whether b is the zero Bucket.
func (b Bucket) IsZero() bool { return b == Bucket{} }

// Validate accepts years 1 to 9999 and months 1 to 12, the range String and
// ParseBucket round-trip.
func (b Bucket) Validate() error {
	if b.Year < 1 || b.Year > 9999 || b.Month < time.January || b.Month > time.December {
		return fmt.Errorf("%w: bucket year %d month %d is out of range", ErrInvalid, b.Year, int(b.Month))
	}
	return nil
}

// ParseBucket parses "YYYY-MM".
func ParseBucket(s string) (Bucket, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return Bucket{}, fmt.Errorf("%w: bucket %q is not YYYY-MM", ErrInvalid, truncate(s))
	}
	b := BucketOf(t)
	return b, b.Validate()
}

// MarshalText encodes the bucket as "YYYY-MM" (JSON, purge certificates).
func (b Bucket) MarshalText() ([]byte, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// UnmarshalText parses "YYYY-MM".
func (b *Bucket) UnmarshalText(text []byte) error {
	parsed, err := ParseBucket(string(text))
	if err != nil {
		return err
	}
	*b = parsed
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
