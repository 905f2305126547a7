package v1alpha1

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// RegulationFloorYears is the shortest retention, in years, each regulation
// allows. The same numbers are in the CEL rule on RetentionRuleSpec, which
// rejects shorter periods at admission.
var RegulationFloorYears = map[Regulation]int{
	RegulationCIRO:    7,
	RegulationFINRA:   6,
	RegulationSEC17a4: 6,
	RegulationMiFIDII: 5,
}

// Period is an ISO 8601 duration such as P7Y or PT10M, kept in calendar units
// so that "seven years" means seven calendar years, not 7*365 days.
type Period struct {
	Years, Months, Weeks, Days int
	Hours, Minutes, Seconds    int
}

var periodPattern = regexp.MustCompile(`^P(?:([0-9]{1,6})Y)?(?:([0-9]{1,6})M)?(?:([0-9]{1,6})W)?(?:([0-9]{1,6})D)?(?:T(?:([0-9]{1,6})H)?(?:([0-9]{1,6})M)?(?:([0-9]{1,6})S)?)?$`)

// ParsePeriod parses the ISO 8601 periods the CRD accepts.
func ParsePeriod(s string) (Period, error) {
	m := periodPattern.FindStringSubmatch(s)
	if m == nil || s == "P" || s[len(s)-1] == 'T' {
		return Period{}, fmt.Errorf("%q is not an ISO 8601 period such as P7Y, P18M, P90D or PT10M", s)
	}
	var n [7]int
	for i := range n {
		if m[i+1] != "" {
			v, err := strconv.Atoi(m[i+1])
			if err != nil {
				return Period{}, fmt.Errorf("period %q: %w", s, err)
			}
			n[i] = v
		}
	}
	return Period{Years: n[0], Months: n[1], Weeks: n[2], Days: n[3], Hours: n[4], Minutes: n[5], Seconds: n[6]}, nil
}

// Before returns t minus the period, in calendar arithmetic in t's location.
// Records sent before the result are past retention at time t.
func (p Period) Before(t time.Time) time.Time {
	d := t.AddDate(-p.Years, -p.Months, -(p.Weeks*7 + p.Days))
	return d.Add(-(time.Duration(p.Hours)*time.Hour + time.Duration(p.Minutes)*time.Minute + time.Duration(p.Seconds)*time.Second))
}

// approxSeconds orders periods: a Gregorian year is 365.2425 days and a month
// a twelfth of that. Used only to pick the longest of several rules.
func (p Period) approxSeconds() float64 {
	const day = 86400.0
	months := float64(p.Years*12 + p.Months)
	days := float64(p.Weeks*7+p.Days) + months*365.2425/12
	return days*day + float64(p.Hours*3600+p.Minutes*60+p.Seconds)
}

// Longer reports whether p keeps records longer than q.
func (p Period) Longer(q Period) bool { return p.approxSeconds() > q.approxSeconds() }

// MeetsFloor reports whether p is at least the regulation's floor. Custom has no floor.
func (p Period) MeetsFloor(r Regulation) bool {
	years, ok := RegulationFloorYears[r]
	if !ok {
		return true
	}
	// Same integer arithmetic as the CEL rule: units of 1/1600 day, where a
	// month is 48699 units and a year 584388 (146097 days per 400 years).
	units := int64(p.Years*12+p.Months)*48699 + int64(p.Weeks*7+p.Days)*1600
	return units >= int64(years)*584388
}
