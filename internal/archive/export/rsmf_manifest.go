package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// RSMFVersion is the RSMF specification version written and checked.
const RSMFVersion = "2.0.0"

// RSMFManifestFile is the manifest's name at the root of rsmf.zip.
const RSMFManifestFile = "rsmf_manifest.json"

// MaxRSMFManifestBytes bounds an rsmf_manifest.json read from a zip.
const MaxRSMFManifestBytes = 256 << 20

// ErrInvalidRSMF wraps every way an RSMF file or manifest breaks the
// specification.
var ErrInvalidRSMF = errors.New("export: invalid RSMF")

// RSMFManifest is rsmf_manifest.json, as defined by Relativity's RSMF 2.0.0
// JSON schema (rsmf_schema_2_0_0.json).
type RSMFManifest struct {
	Version           string             `json:"version"`
	Participants      []RSMFParticipant  `json:"participants"`
	Conversations     []RSMFConversation `json:"conversations"`
	Events            []RSMFEvent        `json:"events"`
	EventCollectionID string             `json:"eventcollectionid,omitempty"`
}

// RSMFParticipant is someone who took part in at least one event.
type RSMFParticipant struct {
	ID        string       `json:"id"`
	Display   string       `json:"display,omitempty"`
	Email     string       `json:"email,omitempty"`
	Avatar    string       `json:"avatar,omitempty"`
	AccountID string       `json:"account_id,omitempty"`
	Custom    []RSMFCustom `json:"custom,omitempty"`
}

// RSMFCustom is a name/value property a viewer shows on hover.
type RSMFCustom struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// RSMFConversation is a time-bound set of events on one platform.
type RSMFConversation struct {
	ID       string `json:"id"`
	Display  string `json:"display,omitempty"`
	Platform string `json:"platform"`
	// Type is "direct" (fixed participants) or "channel" (people come and go).
	Type         string       `json:"type,omitempty"`
	Participants []string     `json:"participants"`
	Custodian    string       `json:"custodian,omitempty"`
	Custom       []RSMFCustom `json:"custom,omitempty"`
	Icon         string       `json:"icon,omitempty"`
}

// RSMFEvent is one thing that happened in a conversation.
type RSMFEvent struct {
	ID           string            `json:"id,omitempty"`
	Type         string            `json:"type"`
	Parent       string            `json:"parent,omitempty"`
	Body         string            `json:"body,omitempty"`
	Participant  string            `json:"participant,omitempty"`
	Conversation string            `json:"conversation,omitempty"`
	Timestamp    string            `json:"timestamp,omitempty"`
	Deleted      bool              `json:"deleted,omitempty"`
	Importance   string            `json:"importance,omitempty"`
	Reactions    []RSMFReaction    `json:"reactions,omitempty"`
	Attachments  []RSMFAttachment  `json:"attachments,omitempty"`
	Edits        []RSMFEdit        `json:"edits,omitempty"`
	Custom       []RSMFCustom      `json:"custom,omitempty"`
	Direction    string            `json:"direction,omitempty"`
	ReadReceipts []RSMFReadReceipt `json:"read_receipts,omitempty"`
}

// RSMFReaction is a reaction to an event.
type RSMFReaction struct {
	Value        string   `json:"value"`
	Count        int      `json:"count,omitempty"`
	Participants []string `json:"participants,omitempty"`
}

// RSMFAttachment is a file of rsmf.zip attached to an event.
type RSMFAttachment struct {
	ID      string `json:"id"`
	Display string `json:"display,omitempty"`
	Size    int64  `json:"size,omitempty"`
}

// RSMFEdit is one edit of an event's body.
type RSMFEdit struct {
	Participant string `json:"participant"`
	Timestamp   string `json:"timestamp,omitempty"`
	Previous    string `json:"previous,omitempty"`
	New         string `json:"new,omitempty"`
}

// RSMFReadReceipt records a delivery or a read.
type RSMFReadReceipt struct {
	Participant string `json:"participant"`
	Timestamp   string `json:"timestamp,omitempty"`
	Action      string `json:"action,omitempty"`
}

// Vocabularies of the schema.
var (
	rsmfEventTypes   = map[string]bool{"message": true, "disclaimer": true, "join": true, "leave": true, "history": true, "unknown": true}
	rsmfConvTypes    = map[string]bool{"direct": true, "channel": true}
	rsmfDirections   = map[string]bool{"incoming": true, "outgoing": true}
	rsmfImportances  = map[string]bool{"normal": true, "high": true}
	rsmfReceiptTypes = map[string]bool{"read": true, "delivered": true}
)

// ParseRSMFManifest decodes an rsmf_manifest.json and checks it against the
// RSMF 2.0.0 schema and its cross-references (ValidateRSMFManifest). Fields
// the schema does not define are allowed, as the schema allows them.
func ParseRSMFManifest(r io.Reader) (*RSMFManifest, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxRSMFManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("export: reading %s: %w", RSMFManifestFile, err)
	}
	if len(b) > MaxRSMFManifestBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidRSMF, RSMFManifestFile, MaxRSMFManifestBytes)
	}
	var m RSMFManifest
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidRSMF, RSMFManifestFile, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: %s: data after the manifest object", ErrInvalidRSMF, RSMFManifestFile)
	}
	if err := ValidateRSMFManifest(&m, nil); err != nil {
		return nil, err
	}
	return &m, nil
}

// ValidateRSMFManifest checks the required fields and vocabularies of the
// schema and that every reference resolves: participants, conversations and
// custodians exist, parents are events of the same conversation, and, when
// files is not nil, every attachment and avatar names a file of rsmf.zip.
func ValidateRSMFManifest(m *RSMFManifest, files map[string]bool) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidRSMF, fmt.Sprintf(format, args...))
	}
	if len(m.Version) < 5 {
		return bad("version %q is not a version", truncate(m.Version))
	}
	if m.Participants == nil || m.Conversations == nil || m.Events == nil {
		return bad("participants, conversations and events are required")
	}
	people := make(map[string]bool, len(m.Participants))
	for i, p := range m.Participants {
		if p.ID == "" || people[p.ID] {
			return bad("participants[%d]: id is empty or repeated", i)
		}
		people[p.ID] = true
		if p.Avatar != "" && files != nil && !files[p.Avatar] {
			return bad("participants[%d]: avatar %q is not in rsmf.zip", i, truncate(p.Avatar))
		}
		if err := checkCustom(p.Custom); err != nil {
			return bad("participants[%d]: %v", i, err)
		}
	}
	convs := make(map[string]bool, len(m.Conversations))
	for i, c := range m.Conversations {
		switch {
		case c.ID == "" || convs[c.ID]:
			return bad("conversations[%d]: id is empty or repeated", i)
		case c.Platform == "":
			return bad("conversations[%d]: platform is required", i)
		case c.Participants == nil:
			return bad("conversations[%d]: participants is required", i)
		case c.Type != "" && !rsmfConvTypes[c.Type]:
			return bad("conversations[%d]: type %q is not direct or channel", i, truncate(c.Type))
		case c.Icon != "" && files != nil && !files[c.Icon]:
			return bad("conversations[%d]: icon %q is not in rsmf.zip", i, truncate(c.Icon))
		}
		convs[c.ID] = true
		in := map[string]bool{}
		for _, p := range c.Participants {
			if !people[p] {
				return bad("conversations[%d]: participant %q is not defined", i, truncate(p))
			}
			in[p] = true
		}
		if c.Custodian != "" && !in[c.Custodian] {
			return bad("conversations[%d]: custodian %q is not a participant of the conversation", i, truncate(c.Custodian))
		}
		if err := checkCustom(c.Custom); err != nil {
			return bad("conversations[%d]: %v", i, err)
		}
	}
	// Event ids are unique within a conversation, and a parent must be an
	// event of the same conversation.
	type evKey struct{ conv, id string }
	ids := map[evKey]bool{}
	for i, e := range m.Events {
		if e.ID == "" {
			continue
		}
		k := evKey{e.Conversation, e.ID}
		if ids[k] {
			return bad("events[%d]: id %q is repeated in its conversation", i, truncate(e.ID))
		}
		ids[k] = true
	}
	for i, e := range m.Events {
		if err := checkEvent(e, people, convs, files); err != nil {
			return bad("events[%d]: %v", i, err)
		}
		if e.Parent != "" && !ids[evKey{e.Conversation, e.Parent}] {
			return bad("events[%d]: parent %q is not an event of its conversation", i, truncate(e.Parent))
		}
	}
	return nil
}

func checkEvent(e RSMFEvent, people, convs, files map[string]bool) error {
	ref := func(what, id string) error {
		if id == "" || !people[id] {
			return fmt.Errorf("%s %q is not a defined participant", what, truncate(id))
		}
		return nil
	}
	switch {
	case !rsmfEventTypes[e.Type]:
		return fmt.Errorf("type %q is not one of message, disclaimer, join, leave, history, unknown", truncate(e.Type))
	case e.Conversation != "" && !convs[e.Conversation]:
		return fmt.Errorf("conversation %q is not defined", truncate(e.Conversation))
	case e.Direction != "" && !rsmfDirections[e.Direction]:
		return fmt.Errorf("direction %q is not incoming or outgoing", truncate(e.Direction))
	case e.Importance != "" && !rsmfImportances[e.Importance]:
		return fmt.Errorf("importance %q is not normal or high", truncate(e.Importance))
	case e.Timestamp != "" && !validRSMFTime(e.Timestamp):
		return fmt.Errorf("timestamp %q is not ISO 8601", truncate(e.Timestamp))
	}
	if e.Participant != "" {
		if err := ref("participant", e.Participant); err != nil {
			return err
		}
	}
	for _, r := range e.Reactions {
		if r.Value == "" || r.Count < 0 {
			return errors.New("a reaction has no value or a negative count")
		}
		for _, p := range r.Participants {
			if err := ref("reaction participant", p); err != nil {
				return err
			}
		}
	}
	for _, a := range e.Attachments {
		if a.ID == "" {
			return errors.New("an attachment has no id")
		}
		if files != nil && !files[a.ID] {
			return fmt.Errorf("attachment %q is not in rsmf.zip", truncate(a.ID))
		}
	}
	for _, ed := range e.Edits {
		if err := ref("edit participant", ed.Participant); err != nil {
			return err
		}
		if ed.Timestamp != "" && !validRSMFTime(ed.Timestamp) {
			return fmt.Errorf("edit timestamp %q is not ISO 8601", truncate(ed.Timestamp))
		}
	}
	for _, rr := range e.ReadReceipts {
		if err := ref("read receipt participant", rr.Participant); err != nil {
			return err
		}
		if rr.Action != "" && !rsmfReceiptTypes[rr.Action] {
			return fmt.Errorf("read receipt action %q is not read or delivered", truncate(rr.Action))
		}
		if rr.Timestamp != "" && !validRSMFTime(rr.Timestamp) {
			return fmt.Errorf("read receipt timestamp %q is not ISO 8601", truncate(rr.Timestamp))
		}
	}
	return checkCustom(e.Custom)
}

func checkCustom(cs []RSMFCustom) error {
	for _, c := range cs {
		if c.Name == "" || c.Value == "" {
			return errors.New("a custom property has an empty name or value")
		}
	}
	return nil
}

// validRSMFTime accepts the ISO 8601 date-times RSMF files carry: with a
// zone (RFC 3339), or without one as in Relativity's samples.
func validRSMFTime(s string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
