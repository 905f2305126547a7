package export

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestOptionsDefaults(t *testing.T) {
	o := Options{Metadata: Metadata{CreatedAt: time.Date(2026, 4, 1, 20, 0, 0, 0, time.FixedZone("HKT", 8*3600))}}.withDefaults()
	if o.BatesPrefix != "VIGIL" || o.BatesStart != 1 || !strings.HasPrefix(o.Generator, "vigil ") || o.CreatedAt.Location() != time.UTC {
		t.Errorf("defaults %+v", o)
	}
}

func TestOptionsValidate(t *testing.T) {
	f := buildFixture(t)
	for name, change := range map[string]func(*Options){
		"no actor":        func(o *Options) { o.Actor = "" },
		"no time":         func(o *Options) { o.CreatedAt = time.Time{} },
		"time before zip": func(o *Options) { o.CreatedAt = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC) },
		"no origin":       func(o *Options) { o.Origin = "" },
		"no checkpoint":   func(o *Options) { o.Checkpoint = nil },
		"no verifiers":    func(o *Options) { o.Verifiers = nil },
		"no proofs":       func(o *Options) { o.Proofs = nil },
		"format twice":    func(o *Options) { o.Formats = []Format{FormatEML, FormatEML} },
		"long matter":     func(o *Options) { o.Matter = strings.Repeat("m", maxMetaBytes+1) },
		"query not UTF-8": func(o *Options) { o.Query = "\xff" },
	} {
		o := f.options(AllFormats...)
		change(&o)
		o = o.withDefaults()
		if err := o.validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: %v", name, err)
		}
	}
	o := f.options(FormatDAT, FormatRSMF).withDefaults()
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	if got := o.sortedFormats(); len(got) != 2 || got[0] != FormatRSMF || got[1] != FormatDAT {
		t.Errorf("sortedFormats %v", got)
	}
}
