package capture

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func validRecord() *Record {
	t := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	r := &Record{
		SchemaVersion: SchemaVersion,
		ID:            NewID(t),
		Channel:       "webhook",
		Tenant:        "acme",
		NativeID:      "msg-1",
		Kind:          KindMessage,
		Conversation:  Conversation{ID: "room-1", Type: "group"},
		Sender:        Participant{ID: "li.wei", Affiliation: AffiliationInternal},
		Text:          "明天的内幕消息 guaranteed returns",
		SentAt:        t,
		CapturedAt:    t.Add(time.Second),
	}
	r.SetDedupKey()
	return r
}

func TestDedupKeyIsStableAndUnambiguous(t *testing.T) {
	a := DedupKey("wecom", "corp", "m1", KindMessage, "")
	if a != DedupKey("wecom", "corp", "m1", KindMessage, "") {
		t.Fatal("same event must have the same key")
	}
	// Moving a separator between fields must not collide.
	if DedupKey("a|b", "c", "m", KindMessage, "") == DedupKey("a", "b|c", "m", KindMessage, "") {
		t.Fatal("field boundaries must be part of the key")
	}
	if DedupKey("wecom", "corp", "m1", KindRecall, "m0") == a {
		t.Fatal("a recall of a message is a different event")
	}
	if len(a) != 64 {
		t.Fatalf("key %q is not hex sha256", a)
	}
}

func TestNewIDIsMonotonic(t *testing.T) {
	now := time.Now()
	prev := NewID(now)
	for range 1000 {
		id := NewID(now)
		if id <= prev {
			t.Fatalf("IDs minted in one millisecond must increase: %s after %s", id, prev)
		}
		prev = id
	}
}

func TestValidate(t *testing.T) {
	tests := map[string]struct {
		mutate  func(*Record)
		wantErr string
	}{
		"valid":                   {mutate: func(*Record) {}},
		"wrong schema":            {mutate: func(r *Record) { r.SchemaVersion = "capture.v0" }, wantErr: "schemaVersion"},
		"bad id":                  {mutate: func(r *Record) { r.ID = "not-a-ulid" }, wantErr: "ULID"},
		"no native id":            {mutate: func(r *Record) { r.NativeID = "" }, wantErr: "nativeID"},
		"unknown kind":            {mutate: func(r *Record) { r.Kind = "poke" }, wantErr: "kind"},
		"text too long":           {mutate: func(r *Record) { r.Text = strings.Repeat("x", MaxTextBytes+1) }, wantErr: "text is"},
		"invalid utf8":            {mutate: func(r *Record) { r.Text = "\xff\xfe" }, wantErr: "UTF-8"},
		"no sent time":            {mutate: func(r *Record) { r.SentAt = time.Time{} }, wantErr: "sentAt"},
		"forged dedupe key":       {mutate: func(r *Record) { r.NativeID = "msg-2" }, wantErr: "dedupKey"},
		"long display name":       {mutate: func(r *Record) { r.Sender.DisplayName = strings.Repeat("名", 400) }, wantErr: "sender"},
		"too many attachments":    {mutate: func(r *Record) { r.Attachments = make([]Attachment, MaxAttachments+1) }, wantErr: "attachments"},
		"consent":                 {mutate: func(r *Record) { r.Consent = &Consent{SubjectID: "wmX", State: ConsentAgree, At: r.SentAt} }},
		"unknown consent state":   {mutate: func(r *Record) { r.Consent = &Consent{SubjectID: "wmX", State: "maybe"} }, wantErr: "consent.state"},
		"consent without subject": {mutate: func(r *Record) { r.Consent = &Consent{State: ConsentDisagree} }, wantErr: "subjectID"},
		"reaction":                {mutate: func(r *Record) { r.Reaction = &Reaction{Emoji: "👍"} }},
		"empty reaction":          {mutate: func(r *Record) { r.Reaction = &Reaction{} }, wantErr: "reaction.emoji"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := validRecord()
			tc.mutate(r)
			err := r.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want ErrInvalid mentioning %q, got %v", tc.wantErr, err)
			}
		})
	}
}

func TestNDJSONRoundTrip(t *testing.T) {
	recs := []*Record{validRecord(), validRecord()}
	var buf bytes.Buffer
	if err := EncodeNDJSON(&buf, recs); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("\n\n")
	var got []*Record
	if err := DecodeNDJSON(&buf, func(r *Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].ID != recs[1].ID || got[0].Text != recs[0].Text {
		t.Fatalf("round trip lost records: %+v", got)
	}
}

func TestNDJSONRejectsBadLines(t *testing.T) {
	good := validRecord()
	var buf bytes.Buffer
	_ = EncodeNDJSON(&buf, []*Record{good})
	tests := map[string]string{
		"not json":       buf.String() + "{oops\n",
		"unknown field":  strings.Replace(buf.String(), `{"schemaVersion"`, `{"extra":1,"schemaVersion"`, 1),
		"two values":     strings.TrimSpace(buf.String()) + " {}\n",
		"invalid record": strings.Replace(buf.String(), `"kind":"message"`, `"kind":"poke"`, 1),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			err := DecodeNDJSON(strings.NewReader(in), func(*Record) error { return nil })
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("want ErrInvalid, got %v", err)
			}
		})
	}
	long := `{"text":"` + strings.Repeat("x", MaxEncodedRecord) + `"}`
	if err := DecodeNDJSON(strings.NewReader(long), func(*Record) error { return nil }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an over-long line must be refused as invalid, got %v", err)
	}
}

func FuzzDecodeNDJSON(f *testing.F) {
	var buf bytes.Buffer
	_ = EncodeNDJSON(&buf, []*Record{validRecord()})
	f.Add(buf.Bytes())
	f.Add([]byte("{}\n"))
	f.Add([]byte("\n\n{\"schemaVersion\":\"capture.v1\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var n int
		err := DecodeNDJSON(bytes.NewReader(data), func(r *Record) error {
			n++
			if verr := r.Validate(); verr != nil {
				t.Fatalf("decoder passed an invalid record: %v", verr)
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("decode error must wrap ErrInvalid: %v", err)
		}
	})
}
