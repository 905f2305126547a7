package v1alpha1

import (
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    Period
		wantErr bool
	}{
		"years":               {in: "P7Y", want: Period{Years: 7}},
		"months and days":     {in: "P1Y6M10D", want: Period{Years: 1, Months: 6, Days: 10}},
		"weeks":               {in: "P2W", want: Period{Weeks: 2}},
		"minutes for testing": {in: "PT10M", want: Period{Minutes: 10}},
		"date and time":       {in: "P1DT2H3M4S", want: Period{Days: 1, Hours: 2, Minutes: 3, Seconds: 4}},
		"empty":               {in: "", wantErr: true},
		"bare P":              {in: "P", wantErr: true},
		"dangling T":          {in: "P1YT", wantErr: true},
		"fraction":            {in: "P1.5Y", wantErr: true},
		"negative":            {in: "P-1Y", wantErr: true},
		"wrong order":         {in: "P1D1Y", wantErr: true},
		"no P":                {in: "7Y", wantErr: true},
		"too many digits":     {in: "P1234567Y", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePeriod(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParsePeriod(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Fatalf("ParsePeriod(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestPeriodBeforeUsesCalendar(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p, _ := ParsePeriod("P1Y1M1DT1H")
	want := time.Date(2025, 1, 31, 11, 0, 0, 0, time.UTC)
	if got := p.Before(now); !got.Equal(want) {
		t.Fatalf("Before = %v, want %v", got, want)
	}
}

func TestPeriodMeetsFloor(t *testing.T) {
	tests := []struct {
		retain string
		reg    Regulation
		want   bool
	}{
		{"P7Y", RegulationCIRO, true},
		{"P84M", RegulationCIRO, true},
		{"P6Y11M", RegulationCIRO, false},
		{"P2556D", RegulationCIRO, false},
		{"P2557D", RegulationCIRO, true},
		{"P6Y", RegulationFINRA, true},
		{"P5Y364D", RegulationSEC17a4, false},
		{"P5Y", RegulationMiFIDII, true},
		{"P4Y", RegulationMiFIDII, false},
		{"PT1M", RegulationCustom, true},
	}
	for _, tc := range tests {
		p, err := ParsePeriod(tc.retain)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.MeetsFloor(tc.reg); got != tc.want {
			t.Errorf("%s under %s: MeetsFloor = %v, want %v", tc.retain, tc.reg, got, tc.want)
		}
	}
}

func TestPeriodLonger(t *testing.T) {
	a, _ := ParsePeriod("P7Y")
	b, _ := ParsePeriod("P84M")
	c, _ := ParsePeriod("P6Y")
	if !a.Longer(c) || c.Longer(a) {
		t.Fatal("P7Y must be longer than P6Y and not the reverse")
	}
	if a.Longer(b) || b.Longer(a) {
		t.Fatal("P7Y and P84M are equal")
	}
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"P7Y", "PT10M", "P1Y2M3W4DT5H6M7S", "P", "PT", "P1.5Y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			return
		}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if p.Before(now).After(now) {
			t.Fatalf("period %q moves the cutoff into the future", s)
		}
		if p.Longer(p) {
			t.Fatalf("period %q is longer than itself", s)
		}
	})
}
