package telegram

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/connector"
)

// FuzzParseUpdate: never panics; errors are malformed; an accepted update
// maps to records that pass capture validation (unless only capture's size
// or UTF-8 limits object) and carry the update_id.
func FuzzParseUpdate(f *testing.F) {
	f.Add([]byte(textUpdate))
	f.Add([]byte(`{"update_id":13,"message_reaction":{"chat":` + group + `,"message_id":77,"user":` + alice + `,"date":1,"old_reaction":[{"type":"emoji","emoji":"👍"}],"new_reaction":[{"type":"paid"}]}}`))
	f.Add([]byte(`{"update_id":17,"deleted_business_messages":{"business_connection_id":"B","chat":` + private + `,"message_ids":[1]}}`))
	f.Add([]byte(`{"update_id":20,"business_connection":{"id":"B","user":` + alice + `,"user_chat_id":1,"date":1,"is_enabled":true}}`))
	f.Add([]byte(`{"update_id":2,"message":{"message_id":1,"chat":{"id":1,"type":"private"},"date":1,"text":"@é","entities":[{"type":"mention","offset":0,"length":9}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := parseUpdate(b)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error not classed as malformed: %v", err)
			}
			return
		}
		now := time.Unix(1767225600, 0)
		for _, r := range newMapper("1", func(string) (int64, bool) { return 5, true }, b, u.UpdateID, now).records(u) {
			if r.NativeSeq == nil || *r.NativeSeq != uint64(u.UpdateID) {
				t.Fatal("update_id not carried")
			}
			connector.Stamp(r, now, "a", "v")
			if err := r.Validate(); err != nil && !strings.Contains(err.Error(), "at most") &&
				!strings.Contains(err.Error(), "over-long") && !strings.Contains(err.Error(), "UTF-8") &&
				!strings.Contains(err.Error(), "emoji") && !strings.Contains(err.Error(), "attachments") {
				t.Fatalf("accepted update maps to an invalid record: %v", err)
			}
		}
	})
}
