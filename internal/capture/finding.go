package capture

// Finding is one policy match on a record. Offsets are bytes into Record.Text;
// Evidence is masked and never carries the matched value itself.
type Finding struct {
	Policy     string `json:"policy"`
	Rule       string `json:"rule"`
	Category   string `json:"category"`
	Severity   string `json:"severity"`
	Detector   string `json:"detector,omitempty"`
	Confidence int    `json:"confidence"`
	Start      int    `json:"start"`
	End        int    `json:"end"`
	Evidence   string `json:"evidence,omitempty"`
	// Evasion names the disguises the match saw through (invisible
	// characters, letter-spacing, look-alike letters): deliberate obfuscation
	// is itself a signal for reviewers.
	Evasion []string `json:"evasion,omitempty"`
	// Audit is true when the policy is in Audit mode: recorded, never alerted.
	Audit bool `json:"audit,omitempty"`
}

// Envelope is one line of the connector-to-archive batch: a record and the
// findings the connector's policy bundle produced for it.
type Envelope struct {
	Record   *Record   `json:"record"`
	Findings []Finding `json:"findings,omitempty"`
}
