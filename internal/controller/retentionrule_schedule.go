package controller

import (
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// errTimeZone marks an unknown time zone name.
var errTimeZone = errors.New("unknown time zone")

// cronParser accepts the five standard fields and descriptors such as @daily
// and @every 10m.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// schedule is a parsed purge schedule in its time zone.
type schedule struct {
	cron     cron.Schedule
	location *time.Location
}

func parseSchedule(spec, timeZone string) (*schedule, error) {
	loc := time.UTC
	if timeZone != "" {
		l, err := time.LoadLocation(timeZone)
		if err != nil {
			return nil, fmt.Errorf("%w %q: use an IANA name such as Asia/Shanghai or America/Toronto", errTimeZone, timeZone)
		}
		loc = l
	}
	s, err := cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q is not a valid cron expression: %w", spec, err)
	}
	return &schedule{cron: s, location: loc}, nil
}

// next is the first run strictly after t, computed in the schedule's zone.
func (s *schedule) next(t time.Time) time.Time {
	return s.cron.Next(t.In(s.location))
}
