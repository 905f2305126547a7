package keys

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestExpiryBucket(t *testing.T) {
	hk := time.FixedZone("HKT", 8*3600)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	sevenYears := Retention{Years: 7}
	cases := []struct {
		name     string
		captured time.Time
		keep     Retention
		want     string
	}{
		{"plain", time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), sevenYears, "2033-06"},
		{"Hong Kong evening is still the UTC month before", time.Date(2026, 2, 1, 7, 59, 0, 0, hk), sevenYears, "2033-01"},
		{"Hong Kong morning reaches the UTC month", time.Date(2026, 2, 1, 8, 0, 0, 0, hk), sevenYears, "2033-02"},
		{"New York evening is already the next UTC month", time.Date(2026, 1, 31, 20, 0, 0, 0, ny), sevenYears, "2033-02"},
		{"across a daylight-saving change", time.Date(2026, 3, 31, 20, 30, 0, 0, ny), Retention{Years: 6}, "2032-04"},
		{"leap day plus a year is 1 March", time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC), Retention{Years: 1}, "2025-03"},
		{"leap day plus four years stays leap day", time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC), Retention{Years: 4}, "2028-02"},
		{"31 January plus a month overflows to March", time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC), Retention{Months: 1}, "2025-03"},
		{"30 January plus a month in a leap year", time.Date(2024, 1, 30, 0, 0, 0, 0, time.UTC), Retention{Months: 1}, "2024-03"},
		{"last nanosecond of a year", time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC), Retention{Years: 6}, "2032-12"},
		{"December plus a month wraps the year", time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC), Retention{Months: 1}, "2027-01"},
		{"days", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Retention{Days: 90}, "2026-04"},
		{"clock time crosses the month end", time.Date(2026, 3, 31, 23, 55, 0, 0, time.UTC), Retention{Clock: 10 * time.Minute}, "2026-04"},
		{"clock time stays inside the month", time.Date(2026, 3, 31, 23, 45, 0, 0, time.UTC), Retention{Clock: 10 * time.Minute}, "2026-03"},
		{"years and months", time.Date(2026, 8, 31, 0, 0, 0, 0, time.UTC), Retention{Years: 5, Months: 6}, "2032-03"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ExpiryBucket(tc.captured, tc.keep)
			if got.String() != tc.want {
				t.Fatalf("ExpiryBucket(%v, %+v) = %s, want %s", tc.captured, tc.keep, got, tc.want)
			}
			expires := tc.keep.ExpiresAt(tc.captured)
			if expires.Before(got.Start()) || !expires.Before(got.End()) {
				t.Fatalf("expiry %v is outside bucket %s [%v, %v)", expires, got, got.Start(), got.End())
			}
		})
	}
}

func TestExpiryBucketIgnoresTheCapturingZone(t *testing.T) {
	instant := time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC)
	want := ExpiryBucket(instant, Retention{Years: 7})
	for _, offset := range []int{-12, -5, 0, 5, 8, 14} {
		local := instant.In(time.FixedZone("z", offset*3600))
		if got := ExpiryBucket(local, Retention{Years: 7}); got != want {
			t.Errorf("UTC%+d: bucket %s, want %s", offset, got, want)
		}
	}
}

func TestBucketBounds(t *testing.T) {
	b := Bucket{Year: 2032, Month: time.February}
	if !b.Start().Equal(time.Date(2032, 2, 1, 0, 0, 0, 0, time.UTC)) || !b.End().Equal(time.Date(2032, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("bounds of %s: %v to %v", b, b.Start(), b.End())
	}
	if n := (Bucket{Year: 2032, Month: time.December}).Next(); n != (Bucket{Year: 2033, Month: time.January}) {
		t.Fatalf("Next of 2032-12 = %s", n)
	}
}

func TestParseBucket(t *testing.T) {
	b, err := ParseBucket("2033-07")
	if err != nil || b != (Bucket{Year: 2033, Month: time.July}) {
		t.Fatalf("ParseBucket = %v, %v", b, err)
	}
	for _, bad := range []string{"", "2033-7", "2033-13", "2033-00", "33-07", "2033-07-01", "0000-01", "２０３３-07"} {
		if _, err := ParseBucket(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseBucket(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	raw, err := json.Marshal(struct{ B Bucket }{b})
	if err != nil || string(raw) != `{"B":"2033-07"}` {
		t.Fatalf("JSON = %s, %v", raw, err)
	}
	var back struct{ B Bucket }
	if err := json.Unmarshal(raw, &back); err != nil || back.B != b {
		t.Fatalf("JSON round trip = %v, %v", back.B, err)
	}
	if _, err := json.Marshal(Bucket{}); err == nil {
		t.Fatal("the zero bucket must not marshal")
	}
}
