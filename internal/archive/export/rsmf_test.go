package export

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

// openRSMF takes an .rsmf file apart with the standard library alone, the
// way a review platform would: the message, its one attachment, the zip.
func openRSMF(t *testing.T, path string) (mail.Header, map[string]any, map[string][]byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("%s: Content-Type %q", path, msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var zipBytes []byte
	attachments := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if disp, _, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition")); disp != "attachment" {
			continue
		}
		attachments++
		if p.FileName() != "rsmf.zip" || p.Header.Get("Content-Transfer-Encoding") != "base64" {
			t.Errorf("%s: attachment %q encoded %q", path, p.FileName(), p.Header.Get("Content-Transfer-Encoding"))
		}
		if zipBytes, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, p)); err != nil {
			t.Fatal(err)
		}
	}
	if attachments != 1 {
		t.Fatalf("%s: %d attachments, an RSMF has exactly one", path, attachments)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[zf.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	var manifest map[string]any
	if err := json.Unmarshal(files[RSMFManifestFile], &manifest); err != nil {
		t.Fatalf("%s: rsmf_manifest.json: %v", path, err)
	}
	return msg.Header, manifest, files
}

// checkSchema checks a manifest, as generic JSON, against the rules of
// Relativity's rsmf_schema_2_0_0.json: required fields and their types,
// the enumerations, and that references resolve.
func checkSchema(t *testing.T, m map[string]any, files map[string][]byte) {
	t.Helper()
	str := func(v any) string { s, _ := v.(string); return s }
	arr := func(v any) []any { a, _ := v.([]any); return a }
	if str(m["version"]) != "2.0.0" {
		t.Errorf("version %v", m["version"])
	}
	people := map[string]bool{}
	for _, p := range arr(m["participants"]) {
		id := str(p.(map[string]any)["id"])
		if id == "" {
			t.Errorf("participant without a string id: %v", p)
		}
		people[id] = true
	}
	convs := map[string]bool{}
	for _, c := range arr(m["conversations"]) {
		c := c.(map[string]any)
		if str(c["id"]) == "" || str(c["platform"]) == "" || c["participants"] == nil {
			t.Errorf("conversation lacks id, platform or participants: %v", c)
		}
		if ty := str(c["type"]); ty != "direct" && ty != "channel" {
			t.Errorf("conversation type %q", ty)
		}
		for _, p := range arr(c["participants"]) {
			if !people[str(p)] {
				t.Errorf("conversation participant %v undefined", p)
			}
		}
		if cu := str(c["custodian"]); cu != "" && !slices.Contains(arr(c["participants"]), any(cu)) {
			t.Errorf("custodian %q not a participant", cu)
		}
		convs[str(c["id"])] = true
	}
	ids := map[string]bool{}
	for _, e := range arr(m["events"]) {
		ids[str(e.(map[string]any)["id"])] = true
	}
	for _, e := range arr(m["events"]) {
		e := e.(map[string]any)
		if !slices.Contains([]string{"message", "disclaimer", "join", "leave", "history", "unknown"}, str(e["type"])) {
			t.Errorf("event type %v", e["type"])
		}
		if d, ok := e["direction"]; ok && d != "incoming" && d != "outgoing" {
			t.Errorf("direction %v", d)
		}
		if _, err := time.Parse(time.RFC3339, str(e["timestamp"])); err != nil {
			t.Errorf("timestamp %v: %v", e["timestamp"], err)
		}
		if !people[str(e["participant"])] || !convs[str(e["conversation"])] {
			t.Errorf("event %v: participant or conversation undefined", e["id"])
		}
		if p, ok := e["parent"]; ok && !ids[str(p)] {
			t.Errorf("parent %v undefined", p)
		}
		if d, ok := e["deleted"]; ok {
			if _, isBool := d.(bool); !isBool {
				t.Errorf("deleted %v is not a boolean", d)
			}
		}
		for _, a := range arr(e["attachments"]) {
			if _, ok := files[str(a.(map[string]any)["id"])]; !ok {
				t.Errorf("attachment %v not in the zip", a)
			}
		}
		for _, c := range arr(e["custom"]) {
			c := c.(map[string]any)
			if str(c["name"]) == "" || str(c["value"]) == "" {
				t.Errorf("custom property with an empty name or value: %v", c)
			}
		}
	}
}

func TestRSMFFilesMeetTheSpecification(t *testing.T) {
	f := buildFixture(t)
	dir, _ := f.exportDir(t, f.options(FormatRSMF))
	paths, _ := filepath.Glob(filepath.Join(dir, "rsmf", "*", "*.rsmf"))
	if len(paths) != 4 {
		t.Fatalf("%d RSMF files: %v", len(paths), paths)
	}
	for _, p := range paths {
		h, m, files := openRSMF(t, p)
		checkSchema(t, m, files)
		events := m["events"].([]any)
		if h.Get("X-RSMF-Version") != "2.0.0" || h.Get("X-RSMF-Generator") != "vigil test" {
			t.Errorf("%s: version %q generator %q", p, h.Get("X-RSMF-Version"), h.Get("X-RSMF-Generator"))
		}
		if h.Get("X-RSMF-EventCount") != strconv.Itoa(len(events)) {
			t.Errorf("%s: EventCount %q, %d events", p, h.Get("X-RSMF-EventCount"), len(events))
		}
		first, last := events[0].(map[string]any)["timestamp"], events[len(events)-1].(map[string]any)["timestamp"]
		if h.Get("X-RSMF-BeginDate") != first || h.Get("X-RSMF-EndDate") != last {
			t.Errorf("%s: BeginDate %q EndDate %q, events from %v to %v", p, h.Get("X-RSMF-BeginDate"), h.Get("X-RSMF-EndDate"), first, last)
		}
		if _, err := mail.ParseAddress(h.Get("From")); err != nil {
			t.Errorf("%s: From %q: %v", p, h.Get("From"), err)
		}
		if _, err := h.AddressList("To"); err != nil {
			t.Errorf("%s: To: %v", p, err)
		}
		if !strings.HasSuffix(p, ".rsmf") {
			t.Errorf("%s lacks the .rsmf extension", p)
		}
	}
}

// TestRSMFMapping checks how records become events: kinds, folding of
// edits, recalls, reactions and receipts into their message, threads,
// direction, attachments, and the record named on every event.
func TestRSMFMapping(t *testing.T) {
	f := buildFixture(t)
	dir, _ := f.exportDir(t, f.options(FormatRSMF))
	get := func(pattern string) *RSMFManifest {
		paths, _ := filepath.Glob(filepath.Join(dir, "rsmf", pattern))
		if len(paths) != 1 {
			t.Fatalf("%s: %v", pattern, paths)
		}
		fh, err := os.Open(paths[0])
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		rf, err := ReadRSMF(fh)
		if err != nil {
			t.Fatal(err)
		}
		return rf.Manifest
	}
	byID := func(m *RSMFManifest, native string) RSMFEvent {
		id := f.byNative[native]
		for _, e := range m.Events {
			if e.ID == id {
				return e
			}
		}
		t.Fatalf("no event for %s (%s)", native, id)
		return RSMFEvent{}
	}
	person := func(m *RSMFManifest, id string) RSMFParticipant {
		for _, p := range m.Participants {
			if p.ID == id {
				return p
			}
		}
		t.Fatalf("no participant %s", id)
		return RSMFParticipant{}
	}

	wecom := get("2026-03-02/wecom-*.rsmf")
	// Seven events stand for twelve records: the edit, three reactions and
	// the recall are folded into their messages.
	if len(wecom.Events) != 7 {
		t.Errorf("%d WeCom events, want 7", len(wecom.Events))
	}
	c := wecom.Conversations[0]
	if c.Type != "channel" || c.Platform != "wecom" || person(wecom, c.Custodian).AccountID != "chan" {
		t.Errorf("conversation %+v", c)
	}
	m1, m2, m3 := byID(wecom, "m1"), byID(wecom, "m2"), byID(wecom, "m3")
	if m1.Body != "你食咗飯未呀？今日個會議改咗去三點，記得帶埋份報價單。" || m1.Type != "message" || person(wecom, m1.Participant).Display != "陈大文 Chan Tai Man" {
		t.Errorf("m1 = %+v", m1)
	}
	if len(m1.Reactions) != 1 || m1.Reactions[0].Value != "👍" || m1.Reactions[0].Count != 1 {
		t.Errorf("m1 reactions %+v", m1.Reactions)
	}
	if m2.Parent != m1.ID || m2.Direction != "incoming" {
		t.Errorf("m2 parent %q direction %q", m2.Parent, m2.Direction)
	}
	if len(m2.Edits) != 1 || m2.Edits[0].Previous != "OK 👍🏻 收到！The quote is attached." || m2.Body != "OK 👍🏻 收到！The revised quote is attached." {
		t.Errorf("m2 edits %+v body %q", m2.Edits, m2.Body)
	}
	if len(m2.Reactions) != 0 {
		t.Errorf("the heart added and removed is still there: %+v", m2.Reactions)
	}
	if len(m2.Attachments) != 2 || m2.Attachments[0].Display != "报价单 v2.pdf" {
		t.Errorf("m2 attachments %+v", m2.Attachments)
	}
	if !m3.Deleted || len(m3.Attachments) != 0 || !hasCustom(m3, "Attachment", "IMG_0001.jpg") {
		t.Errorf("m3 = %+v: want recalled, with its unavailable image described", m3)
	}
	types := map[string]int{}
	for _, e := range wecom.Events {
		types[e.Type]++
	}
	if types["join"] != 1 || types["leave"] != 1 || types["disclaimer"] != 2 || types["message"] != 3 {
		t.Errorf("event types %v", types)
	}
	join := byID(wecom, "join-1")
	if person(wecom, join.Participant).Display != "张三" {
		t.Errorf("join participant %+v", person(wecom, join.Participant))
	}

	wa := get("2026-03-02/whatsapp-*.rsmf")
	w1 := byID(wa, "wamid.1")
	if len(wa.Events) != 1 || w1.Direction != "outgoing" || len(w1.ReadReceipts) != 1 || w1.ReadReceipts[0].Action != "read" ||
		person(wa, w1.ReadReceipts[0].Participant).Display != "王先生" || wa.Conversations[0].Type != "direct" {
		t.Errorf("WhatsApp day 1: %+v", wa)
	}
	wa2 := get("2026-03-03/whatsapp-*.rsmf")
	if wa2.EventCollectionID != wa.EventCollectionID {
		t.Error("the days of one conversation have different event collection ids")
	}

	slack := get("2026-03-02/slack-*.rsmf")
	s1, s2 := byID(slack, "C0123:1700000000.000100"), byID(slack, "C0123:1700000000.000200")
	if s2.Parent != s1.ID {
		t.Errorf("thread reply parent %q, want %q", s2.Parent, s1.ID)
	}
	s3 := byID(slack, "C0123:1600000000.000100")
	if s3.Type != "message" || len(s3.Edits) != 1 || !hasCustom(s3, "Edit of", "C0123:1600000000.000050") {
		t.Errorf("edit of a message outside the export: %+v", s3)
	}
}

func hasCustom(e RSMFEvent, name, contains string) bool {
	return slices.ContainsFunc(e.Custom, func(c RSMFCustom) bool { return c.Name == name && strings.Contains(c.Value, contains) })
}

func TestFoldReaction(t *testing.T) {
	var ev RSMFEvent
	foldReaction(&ev, "👍", "P1", false)
	foldReaction(&ev, "👍", "P2", false)
	foldReaction(&ev, "👍", "P2", false) // the same person twice counts once
	foldReaction(&ev, "😂", "P1", false)
	foldReaction(&ev, "👍", "P1", true)
	foldReaction(&ev, "🙈", "P1", true) // removing what was never added
	want := []RSMFReaction{{Value: "👍", Count: 1, Participants: []string{"P2"}}, {Value: "😂", Count: 1, Participants: []string{"P1"}}}
	if len(ev.Reactions) != 2 || ev.Reactions[0].Count != 1 || !slices.Equal(ev.Reactions[0].Participants, want[0].Participants) ||
		ev.Reactions[1].Value != "😂" {
		t.Errorf("reactions %+v, want %+v", ev.Reactions, want)
	}
	foldReaction(&ev, "😂", "P1", true)
	if len(ev.Reactions) != 1 {
		t.Errorf("a reaction whose count fell to zero stayed: %+v", ev.Reactions)
	}
}

func TestRSMFDirectionAndType(t *testing.T) {
	for d, want := range map[capture.Direction]string{capture.DirectionInbound: "incoming", capture.DirectionOutbound: "outgoing", capture.DirectionInternal: "", "": ""} {
		if got := rsmfDirection(d); got != want {
			t.Errorf("direction %q → %q, want %q", d, got, want)
		}
	}
	for ct, want := range map[string]string{"direct": "direct", "group": "channel", "channel": "channel", "thread": "channel", "": "channel"} {
		if got := rsmfConvType(ct); got != want {
			t.Errorf("type %q → %q, want %q", ct, got, want)
		}
	}
}
