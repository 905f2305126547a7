package controller

import (
	"errors"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	base := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	tests := map[string]struct {
		spec, tz string
		want     time.Time
		wantErr  bool
		wantTZ   bool
	}{
		"daily at 3 UTC":        {spec: "0 3 * * *", want: time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)},
		"daily at 3 in Toronto": {spec: "0 3 * * *", tz: "America/Toronto", want: time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)},
		"daily at 3 Shanghai":   {spec: "0 3 * * *", tz: "Asia/Shanghai", want: time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC)},
		"descriptor":            {spec: "@daily", want: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		"every ten seconds":     {spec: "@every 10s", want: base.Add(10 * time.Second)},
		"six fields refused":    {spec: "0 0 3 * * *", wantErr: true},
		"garbage":               {spec: "at three", wantErr: true},
		"out of range":          {spec: "61 3 * * *", wantErr: true},
		"unknown zone":          {spec: "0 3 * * *", tz: "Mars/Olympus", wantErr: true, wantTZ: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := parseSchedule(tc.spec, tc.tz)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				if errors.Is(err, errTimeZone) != tc.wantTZ {
					t.Fatalf("errors.Is(err, errTimeZone) = %v, want %v", errors.Is(err, errTimeZone), tc.wantTZ)
				}
				return
			}
			if got := s.next(base); !got.Equal(tc.want) {
				t.Fatalf("next = %v, want %v", got.UTC(), tc.want)
			}
		})
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"0 3 * * *", "@every 1m", "*/5 * * * 1-5", "@yearly", "", "* * * * * *"} {
		f.Add(s, "UTC")
	}
	f.Fuzz(func(t *testing.T, spec, tz string) {
		s, err := parseSchedule(spec, tz)
		if err != nil {
			return
		}
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if next := s.next(base); !next.IsZero() && !next.After(base) {
			t.Fatalf("schedule %q: next %v is not after %v", spec, next, base)
		}
	})
}
