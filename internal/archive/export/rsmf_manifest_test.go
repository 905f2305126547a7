package export

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRSMFManifest(t *testing.T) {
	valid := `{"version":"2.0.0",
		"participants":[{"id":"P1","display":"陈大文"},{"id":"P2"}],
		"conversations":[{"id":"C1","platform":"wecom","type":"direct","participants":["P1","P2"],"custodian":"P1"}],
		"events":[
			{"id":"e1","type":"message","participant":"P1","conversation":"C1","timestamp":"2026-03-02T09:00:00","body":"你好"},
			{"id":"e2","type":"message","parent":"e1","participant":"P2","conversation":"C1","timestamp":"2026-03-02T09:01:00.000Z",
			 "reactions":[{"value":"thumbsup","count":1,"participants":["P1"]}],
			 "edits":[{"participant":"P2","previous":"a","new":"b"}],
			 "read_receipts":[{"participant":"P1","action":"read"}],
			 "x-extension":"kept: the schema allows other properties"}]}`
	if _, err := ParseRSMFManifest(strings.NewReader(valid)); err != nil {
		t.Fatalf("valid manifest refused: %v", err)
	}
	bad := map[string]string{
		// Like Relativity's invalid samples: a participant without an id,
		// and one whose id is a number.
		"participant without id": `{"version":"2.0.0","participants":[{"display":"Participant 1"}],"conversations":[],"events":[]}`,
		"numeric participant id": `{"version":"2.0.0","participants":[{"id":1}],"conversations":[],"events":[]}`,
		"no events":              `{"version":"2.0.0","participants":[],"conversations":[]}`,
		"short version":          `{"version":"2.0","participants":[],"conversations":[],"events":[]}`,
		"conversation participant undefined": `{"version":"2.0.0","participants":[{"id":"P1"}],
			"conversations":[{"id":"C1","platform":"x","participants":["P2"]}],"events":[]}`,
		"custodian outside the conversation": `{"version":"2.0.0","participants":[{"id":"P1"},{"id":"P2"}],
			"conversations":[{"id":"C1","platform":"x","participants":["P1"],"custodian":"P2"}],"events":[]}`,
		"conversation without platform": `{"version":"2.0.0","participants":[],"conversations":[{"id":"C1","participants":[]}],"events":[]}`,
		"conversation type":             `{"version":"2.0.0","participants":[],"conversations":[{"id":"C1","platform":"x","type":"group","participants":[]}],"events":[]}`,
		"event type":                    `{"version":"2.0.0","participants":[],"conversations":[],"events":[{"type":"reaction"}]}`,
		"direction":                     `{"version":"2.0.0","participants":[],"conversations":[],"events":[{"type":"message","direction":"inbound"}]}`,
		"timestamp":                     `{"version":"2.0.0","participants":[],"conversations":[],"events":[{"type":"message","timestamp":"yesterday"}]}`,
		"parent elsewhere":              `{"version":"2.0.0","participants":[],"conversations":[],"events":[{"type":"message","parent":"m9"}]}`,
		"repeated event id":             `{"version":"2.0.0","participants":[],"conversations":[],"events":[{"id":"a","type":"message"},{"id":"a","type":"message"}]}`,
		"empty custom value":            `{"version":"2.0.0","participants":[],"conversations":[],"events":[{"type":"message","custom":[{"name":"x","value":""}]}]}`,
		"edit without participant":      `{"version":"2.0.0","participants":[],"conversations":[],"events":[{"type":"message","edits":[{"new":"x"}]}]}`,
		"receipt action":                `{"version":"2.0.0","participants":[{"id":"P1"}],"conversations":[],"events":[{"type":"message","read_receipts":[{"participant":"P1","action":"seen"}]}]}`,
		"trailing data":                 `{"version":"2.0.0","participants":[],"conversations":[],"events":[]} {}`,
	}
	for name, doc := range bad {
		if _, err := ParseRSMFManifest(strings.NewReader(doc)); !errors.Is(err, ErrInvalidRSMF) {
			t.Errorf("%s: %v, want ErrInvalidRSMF", name, err)
		}
	}
}

func TestValidateRSMFManifestChecksZipFiles(t *testing.T) {
	m := &RSMFManifest{Version: RSMFVersion, Participants: []RSMFParticipant{{ID: "P1", Avatar: "p1.png"}}, Conversations: []RSMFConversation{},
		Events: []RSMFEvent{{Type: "message", Attachments: []RSMFAttachment{{ID: "a.pdf"}}}}}
	if err := ValidateRSMFManifest(m, nil); err != nil {
		t.Errorf("without a file list: %v", err)
	}
	if err := ValidateRSMFManifest(m, map[string]bool{"p1.png": true}); err == nil {
		t.Error("an attachment missing from the zip was accepted")
	}
	if err := ValidateRSMFManifest(m, map[string]bool{"a.pdf": true}); err == nil {
		t.Error("an avatar missing from the zip was accepted")
	}
	if err := ValidateRSMFManifest(m, map[string]bool{"a.pdf": true, "p1.png": true}); err != nil {
		t.Error(err)
	}
}
