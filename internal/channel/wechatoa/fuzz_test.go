package wechatoa

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/connector"
)

// FuzzParseMessage: never panics; an accepted message has its required
// fields and maps to a record that passes capture validation (unless only
// capture's own size limits object).
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(vecPlainBody))
	f.Add([]byte(vecSecureMsg))
	f.Add([]byte(xmlMsg("text", `<Content>hi</Content><MsgId>1</MsgId>`)))
	f.Add([]byte(xmlMsg("event", `<Event>LOCATION</Event><Latitude>1</Latitude>`)))
	f.Add([]byte(`{"ToUserName":"a","FromUserName":"b","CreateTime":"5","MsgType":"x","MsgId":1e3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMessage(b)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error not classed as malformed: %v", err)
			}
			return
		}
		if m.ToUserName == "" || m.FromUserName == "" || m.MsgType == "" || m.sentAt.IsZero() || m.DedupeKey() == "" {
			t.Fatalf("accepted without required fields: %+v", m)
		}
		r := toRecord(m, b, false, "wx")
		connector.Stamp(r, time.Now(), "a", "v")
		if err := r.Validate(); err != nil && !strings.Contains(err.Error(), "at most") &&
			!strings.Contains(err.Error(), "over-long") && !strings.Contains(err.Error(), "UTF-8") {
			t.Fatalf("accepted message maps to an invalid record: %v", err)
		}
	})
}

// FuzzTopLevelFields: never panics, errors are malformed, and a body it
// calls secure-form has only ToUserName and Encrypt.
func FuzzTopLevelFields(f *testing.F) {
	f.Add([]byte(vecSecureBody))
	f.Add([]byte(`<xml><ToUserName>a</ToUserName><Encrypt>b</Encrypt></xml>`))
	f.Add([]byte(`<xml><ToUserName>a</ToUserName><Content><x/></Content><Encrypt>b</Encrypt></xml>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fields, err := topLevelFields(b)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error not classed as malformed: %v", err)
			}
			return
		}
		if len(fields) > maxTopLevelFields {
			t.Fatalf("%d fields", len(fields))
		}
		if isSecureForm(fields) {
			for _, n := range fields {
				if !strings.EqualFold(n, "tousername") && !strings.EqualFold(n, "encrypt") {
					t.Fatalf("field %q in a secure-form body", n)
				}
			}
		}
	})
}
