package store

import (
	"fmt"
	"strings"

	"github.com/vigil-operator/vigil/internal/capture"
)

// Facets are what a record is filtered by besides its account, time and
// text: identifiers and labels, never content, so backends keep them in the
// clear beside the sealed record.
type Facets struct {
	// Conversation is the record's conversation id.
	Conversation string
	// Categories are its findings' categories, as ",A,B," so that one
	// category matches as a substring with its commas.
	Categories string
	// Severity is the rank of its most severe finding (SeverityRank), 0
	// without findings.
	Severity int
}

// FacetsOf derives a record's facets.
func FacetsOf(rec *capture.Record, findings []capture.Finding) Facets {
	f := Facets{Conversation: rec.Conversation.ID}
	seen := map[string]bool{}
	var cats []string
	for _, fd := range findings {
		if fd.Category != "" && !seen[fd.Category] {
			seen[fd.Category] = true
			cats = append(cats, fd.Category)
		}
		f.Severity = max(f.Severity, SeverityRank(fd.Severity))
	}
	if len(cats) > 0 {
		f.Categories = "," + strings.Join(cats, ",") + ","
	}
	return f
}

// Severities in increasing order; a finding's rank is its index plus one.
var Severities = []string{"Low", "Medium", "High", "Critical"}

// SeverityRank is 1 for Low up to 4 for Critical, 0 for anything else.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return i + 1
		}
	}
	return 0
}

// CategoryPattern is the substring a Facets.Categories holds when it has
// the category.
func CategoryPattern(category string) string { return "," + category + "," }

// ValidateFilters checks a query's facet filters.
func (q *Query) ValidateFilters() error {
	switch {
	case q.MinSeverity != "" && SeverityRank(q.MinSeverity) == 0:
		return fmt.Errorf("%w: severity %q is not one of %s", ErrInvalid, q.MinSeverity, strings.Join(Severities, ", "))
	case strings.Contains(q.Category, ","):
		return fmt.Errorf("%w: a category has no commas", ErrInvalid)
	case len(q.Custodian) > 512 || len(q.Conversation) > 512 || len(q.Category) > 512:
		return fmt.Errorf("%w: a filter value is longer than 512 bytes", ErrInvalid)
	}
	return nil
}
