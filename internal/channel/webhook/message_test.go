package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

const validMessage = `{"id":"m-1","conversation":{"id":"c-9","type":"direct","name":"陳生"},
"sender":{"id":"u-1","displayName":"Alice","affiliation":"internal"},
"recipients":[{"id":"x-7","displayName":"陳大文","affiliation":"external"}],
"direction":"outbound","text":"佢哋話聽日會up價, guaranteed returns 保证收益","sentAt":"2026-03-01T09:30:00+08:00",
"attachments":[{"name":"deck.pdf","mime":"application/pdf","size":2048,"sha256":"` + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" + `"}]}`

func batchOf(msgs ...string) string { return `{"messages":[` + strings.Join(msgs, ",") + `]}` }

func TestParseBodyAccepts(t *testing.T) {
	minimal := `{"id":"m-2","conversation":{"id":"c"},"sender":{"id":"s"},"sentAt":"2026-03-01T01:30:00Z"}`
	tests := []struct {
		name  string
		body  string
		count int
	}{
		{"single", validMessage, 1},
		{"minimal defaults kind", minimal, 1},
		{"batch", batchOf(validMessage, minimal), 2},
		{"recall with target", `{"id":"r-1","kind":"recall","target":"m-1","conversation":{"id":"c"},"sender":{"id":"s"},"sentAt":"2026-03-01T01:30:00.123Z"}`, 1},
		{"same id different kind", batchOf(minimal, `{"id":"m-2","kind":"edit","target":"m-2","conversation":{"id":"c"},"sender":{"id":"s"},"sentAt":"2026-03-01T01:30:00Z"}`), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msgs, sentAt, err := parseBody([]byte(tc.body))
			if err != nil {
				t.Fatalf("parseBody: %v", err)
			}
			if len(msgs) != tc.count || len(sentAt) != tc.count {
				t.Fatalf("got %d messages, want %d", len(msgs), tc.count)
			}
			for i, m := range msgs {
				if m.Kind == "" || sentAt[i].IsZero() || sentAt[i].Location() != time.UTC {
					t.Fatalf("message %d not normalised: kind %q sentAt %v", i, m.Kind, sentAt[i])
				}
			}
		})
	}
}

func TestParseBodyRejects(t *testing.T) {
	minimal := func(extra string) string {
		return `{"id":"m","conversation":{"id":"c"},"sender":{"id":"s"},"sentAt":"2026-03-01T01:30:00Z"` + extra + `}`
	}
	many := make([]string, MaxMessagesPerRequest+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"id":"m%d","conversation":{"id":"c"},"sender":{"id":"s"},"sentAt":"2026-03-01T01:30:00Z"}`, i)
	}
	tests := []struct {
		name     string
		body     string
		mentions string
	}{
		{"not json", `hello`, "invalid character"},
		{"empty", ``, "EOF"},
		{"unknown field", minimal(`,"colour":"red"`), "unknown field"},
		{"unknown nested field", `{"id":"m","conversation":{"id":"c","topic":"x"},"sender":{"id":"s"},"sentAt":"2026-03-01T01:30:00Z"}`, "unknown field"},
		{"two values", minimal(``) + minimal(``), "more than one"},
		{"missing id", `{"conversation":{"id":"c"},"sender":{"id":"s"},"sentAt":"2026-03-01T01:30:00Z"}`, "message.id"},
		{"missing conversation", `{"id":"m","sender":{"id":"s"},"sentAt":"2026-03-01T01:30:00Z"}`, "conversation.id"},
		{"missing sender", `{"id":"m","conversation":{"id":"c"},"sentAt":"2026-03-01T01:30:00Z"}`, "sender.id"},
		{"bad sentAt", minimal(`,"sentAt":"yesterday"`), "sentAt"},
		{"bad kind", minimal(`,"kind":"system"`), "kind"},
		{"edit without target", minimal(`,"kind":"edit"`), "target"},
		{"bad direction", minimal(`,"direction":"sideways"`), "direction"},
		{"bad affiliation", `{"id":"m","conversation":{"id":"c"},"sender":{"id":"s","affiliation":"friend"},"sentAt":"2026-03-01T01:30:00Z"}`, "sender.affiliation"},
		{"bad conversation type", `{"id":"m","conversation":{"id":"c","type":"party"},"sender":{"id":"s"},"sentAt":"2026-03-01T01:30:00Z"}`, "conversation.type"},
		{"recipient without id", minimal(`,"recipients":[{"displayName":"x"}]`), "recipients[0].id"},
		{"bad attachment hash", minimal(`,"attachments":[{"sha256":"abc"}]`), "attachments[0].sha256"},
		{"negative size", minimal(`,"attachments":[{"size":-1}]`), "attachments[0].size"},
		{"empty batch", `{"messages":[]}`, "1 to 500"},
		{"too many", batchOf(many...), "1 to 500"},
		{"batch mixed with message", `{"id":"m","messages":[` + minimal(``) + `]}`, "not both"},
		{"one bad in batch", batchOf(minimal(``), `{"id":"n","conversation":{"id":"c"},"sender":{"id":"s"},"sentAt":"nope"}`), "messages[1].sentAt"},
		{"duplicate in batch", batchOf(minimal(``), minimal(``)), "repeats messages[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseBody([]byte(tc.body))
			if !errors.Is(err, errMalformed) {
				t.Fatalf("parseBody error = %v, want errMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.mentions) {
				t.Fatalf("error %q does not mention %q", err, tc.mentions)
			}
		})
	}
}

func TestToRecordsMapping(t *testing.T) {
	body := []byte(validMessage)
	msgs, sentAt, err := parseBody(body)
	if err != nil {
		t.Fatal(err)
	}
	r := toRecords(msgs, sentAt, body, "acme", "alice@acme")[0]
	stampForTest(r)
	if err := r.Validate(); err != nil {
		t.Fatalf("mapped record invalid: %v", err)
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"channel", r.Channel, "webhook"},
		{"tenant", r.Tenant, "acme"},
		{"account", r.Account, "alice@acme"},
		{"nativeID", r.NativeID, "m-1"},
		{"kind", r.Kind, capture.KindMessage},
		{"direction", r.Direction, capture.DirectionOutbound},
		{"sender affiliation", r.Sender.Affiliation, capture.AffiliationInternal},
		{"recipient", r.Recipients[0].DisplayName, "陳大文"},
		{"sentAt", r.SentAt, time.Date(2026, 3, 1, 1, 30, 0, 0, time.UTC)},
		{"sigVerified", r.Provenance.SigVerified, true},
		{"sigScheme", r.Provenance.SigScheme, "hmac-sha256-v1"},
		{"raw size", r.Raw.Size, int64(len(body))},
		{"raw sha length", len(r.Raw.SHA256), 64},
		{"attachment state", r.Attachments[0].State, "pending"},
		{"dedupKey", r.DedupKey, capture.DedupKey("webhook", "acme", "m-1", capture.KindMessage, "")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
}

// stampForTest does what the connector's sink does before validation.
func stampForTest(r *capture.Record) {
	if r.CapturedAt.IsZero() {
		r.CapturedAt = time.Now().UTC()
	}
	if r.ID == "" {
		r.ID = capture.NewID(r.CapturedAt)
	}
}

// FuzzParseBody: never panics; everything accepted has 1 to 500 messages
// with the required fields, maps to records that pass capture validation
// (unless only capture's own size limits object), and survives a round trip
// through JSON unchanged.
func FuzzParseBody(f *testing.F) {
	f.Add([]byte(validMessage))
	f.Add([]byte(batchOf(validMessage)))
	f.Add([]byte(`{"messages":[{"id":"a","kind":"reaction","target":"b","conversation":{"id":"c"},"sender":{"id":"s"},"sentAt":"2026-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"id":"\u0000","conversation":{"id":"\ud800"},"sender":{"id":"s"},"sentAt":"2026-01-01T00:00:00-23:59"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, sentAt, err := parseBody(b)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error not classed as malformed: %v", err)
			}
			return
		}
		if len(msgs) < 1 || len(msgs) > MaxMessagesPerRequest || len(sentAt) != len(msgs) {
			t.Fatalf("accepted %d messages", len(msgs))
		}
		for i, m := range msgs {
			if m.ID == "" || m.Conversation.ID == "" || m.Sender.ID == "" || sentAt[i].IsZero() {
				t.Fatalf("message %d lacks required fields: %+v", i, m)
			}
		}
		for _, r := range toRecords(msgs, sentAt, b, "", "") {
			stampForTest(r)
			if err := r.Validate(); err != nil && !strings.Contains(err.Error(), "at most") && !strings.Contains(err.Error(), "over-long") {
				t.Fatalf("accepted message maps to an invalid record: %v", err)
			}
		}
		again, err := json.Marshal(body{Messages: msgs})
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		msgs2, _, err := parseBody(again)
		if err != nil {
			t.Fatalf("re-encoded body rejected: %v", err)
		}
		if fmt.Sprint(msgs2) != fmt.Sprint(msgs) {
			t.Fatalf("round trip changed messages")
		}
	})
}
