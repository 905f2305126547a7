package export

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

// Custom event properties that name the records an RSMF event stands for.
// Every exported record is named by exactly one of them, so the verifier can
// account for each record in the RSMF files: an edit, recall, reaction or
// receipt folded into the message it targets is named on that message.
const (
	rsmfRecordProp = "Vigil record"
	rsmfBatesProp  = "Bates"
)

// rsmfFoldProps names the property a folded record of each kind is listed
// under on its target event.
var rsmfFoldProps = map[capture.Kind]string{
	capture.KindEdit:     "Vigil edit record",
	capture.KindRecall:   "Vigil recall record",
	capture.KindReaction: "Vigil reaction record",
	capture.KindStatus:   "Vigil receipt record",
}

// isRecordProp reports whether a custom property names a record.
func isRecordProp(name string) bool {
	if name == rsmfRecordProp {
		return true
	}
	for _, p := range rsmfFoldProps {
		if p == name {
			return true
		}
	}
	return false
}

// sliceKey is one RSMF file: a conversation of one account on one UTC day.
// The account is part of the key because two custodians capturing the same
// conversation are two sources, which RSMF keeps apart (one custodian per
// conversation).
type sliceKey struct {
	Account, Channel, Conversation, Day string
}

func (k sliceKey) String() string {
	return strings.Join([]string{k.Account, k.Channel, k.Conversation, k.Day}, "\x00")
}

// collectionID is shared by the days of one conversation, which is what
// RSMF's eventcollectionid is for.
func (k sliceKey) collectionID() string {
	return shortHash(strings.Join([]string{k.Account, k.Channel, k.Conversation}, "\x00"), 32)
}

type rsmfRecord struct {
	rec       *capture.Record
	entry     int
	custodian string
	bates     string
	exported  map[int]string
}

// rsmfBuilder collects records per slice until the export ends.
type rsmfBuilder struct {
	slices map[sliceKey][]rsmfRecord
}

func newRSMFBuilder() *rsmfBuilder { return &rsmfBuilder{slices: map[sliceKey][]rsmfRecord{}} }

func (b *rsmfBuilder) add(rec *capture.Record, entry int, account, custodian, bates string, exported map[int]string) {
	k := sliceKey{Account: account, Channel: rec.Channel, Conversation: rec.Conversation.ID, Day: rec.SentAt.UTC().Format("2006-01-02")}
	b.slices[k] = append(b.slices[k], rsmfRecord{rec: rec, entry: entry, custodian: custodian, bates: bates, exported: exported})
}

// keys are the slices in file order: by day, then account, channel and
// conversation.
func (b *rsmfBuilder) keys() []sliceKey {
	keys := make([]sliceKey, 0, len(b.slices))
	for k := range b.slices {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b sliceKey) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), strings.Compare(a.Account, b.Account),
			strings.Compare(a.Channel, b.Channel), strings.Compare(a.Conversation, b.Conversation))
	})
	return keys
}

// zipAttachment is an attachment file to put in rsmf.zip.
type zipAttachment struct {
	name  string
	rec   *capture.Record
	index int
}

// rsmfSlice is one RSMF file ready to write.
type rsmfSlice struct {
	key         sliceKey
	manifest    *RSMFManifest
	attachments []zipAttachment
	custodian   string
	// begin is the time of the first event, the file's Date.
	begin time.Time
	// entries are the export records the file stands for.
	entries []int
}

// participantBook numbers participants P1, P2, … in order of appearance.
type participantBook struct {
	ids  map[string]string
	list []RSMFParticipant
}

// id returns the RSMF id of p, adding it on first sight, or "" for a
// participant with neither id nor name (a system sender).
func (pb *participantBook) id(p capture.Participant) string {
	key := "id:" + p.ID
	if p.ID == "" {
		if p.DisplayName == "" {
			return ""
		}
		key = "name:" + p.DisplayName
	}
	if id, ok := pb.ids[key]; ok {
		return id
	}
	id := fmt.Sprintf("P%d", len(pb.list)+1)
	pb.ids[key] = id
	rp := RSMFParticipant{ID: id, Display: clean(orDefault(p.DisplayName, p.ID)), AccountID: clean(p.ID)}
	if p.IDType == "email" {
		rp.Email = clean(p.ID)
	}
	rp.Custom = appendCustom(rp.Custom, "ID type", p.IDType)
	rp.Custom = appendCustom(rp.Custom, "Affiliation", string(p.Affiliation))
	rp.Custom = appendCustom(rp.Custom, "Organisation", p.Org)
	pb.list = append(pb.list, rp)
	return id
}

// appendCustom adds a property when it has a value: the schema requires
// values of at least one character.
func appendCustom(cs []RSMFCustom, name, value string) []RSMFCustom {
	if value = clean(value); value == "" {
		return cs
	}
	return append(cs, RSMFCustom{Name: name, Value: value})
}

// rsmfDirection maps a capture direction, which is relative to the
// monitored organisation, to RSMF's, which is relative to the custodian;
// internal messages have no direction relative to the organisation.
func rsmfDirection(d capture.Direction) string {
	switch d {
	case capture.DirectionInbound:
		return "incoming"
	case capture.DirectionOutbound:
		return "outgoing"
	}
	return ""
}

// rsmfConvType maps a capture conversation type: only a direct chat has
// fixed participants; groups, channels, threads and broadcasts do not.
func rsmfConvType(t string) string {
	if t == "direct" {
		return "direct"
	}
	return "channel"
}

// buildRSMFSlice turns a slice's records into an RSMF manifest. Records are
// taken in time order; edits, recalls, reactions and read receipts whose
// target message is earlier in the same file are folded into it (edit
// history, deleted flag, reaction counts, read receipts), as RSMF models
// them; those whose target is elsewhere become events of their own, so
// nothing is lost.
func buildRSMFSlice(k sliceKey, recs []rsmfRecord) *rsmfSlice {
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b rsmfRecord) int {
		return cmp.Or(a.rec.SentAt.Compare(b.rec.SentAt), strings.Compare(a.rec.ID, b.rec.ID))
	})
	convID := k.Conversation
	if convID == "" {
		convID = "unknown"
	}
	pb := &participantBook{ids: map[string]string{}}
	s := &rsmfSlice{key: k, custodian: recs[0].custodian, begin: recs[0].rec.SentAt}
	var events []RSMFEvent
	// byNative finds a message event by the channel's id of the message,
	// which is what targets and replies name.
	byNative := map[string]int{}
	for _, r := range recs {
		rec := r.rec
		s.entries = append(s.entries, r.entry)
		for _, p := range rec.Recipients {
			pb.id(p)
		}
		if t, ok := byNative[rec.Target]; ok && rec.Target != "" && fold(&events[t], rec, pb) {
			continue
		}
		who := pb.id(rec.Sender)
		if who == "" {
			// Events of the archive or the platform itself.
			who = pb.id(capture.Participant{DisplayName: "(system)"})
		}
		ev := RSMFEvent{
			ID: rec.ID, Participant: who, Conversation: convID,
			Timestamp: formatTime(rec.SentAt), Direction: rsmfDirection(rec.Direction),
		}
		ev.Custom = appendCustom(ev.Custom, rsmfRecordProp, rec.ID)
		ev.Custom = appendCustom(ev.Custom, rsmfBatesProp, r.bates)
		ev.Custom = appendCustom(ev.Custom, "Native ID", rec.NativeID)
		ev.Custom = appendCustom(ev.Custom, "Message type", rec.MsgType)
		switch rec.Kind {
		case capture.KindMessage:
			ev.Type, ev.Body = "message", rec.Text
		case capture.KindEdit:
			// The original is not in this file: the edit shows as a message
			// with its one edit.
			ev.Type, ev.Body = "message", rec.Text
			ev.Edits = []RSMFEdit{{Participant: ev.Participant, Timestamp: editTime(rec), New: rec.Text}}
			ev.Custom = appendCustom(ev.Custom, "Edit of", rec.Target)
		case capture.KindMembership:
			ev.Type, ev.Body = orDefault(membershipAction(rec), "unknown"), body(rec)
			if ms := members(rec); len(ms) == 1 && pb.id(ms[0]) != "" {
				ev.Participant = pb.id(ms[0])
			}
		case capture.KindConsent, capture.KindSystem:
			// Statements about the record-keeping itself, which is what
			// RSMF's disclaimer events carry.
			ev.Type, ev.Body = "disclaimer", body(rec)
		default:
			ev.Type, ev.Body = "unknown", body(rec)
		}
		if rec.ReplyTo != "" {
			if p, ok := byNative[rec.ReplyTo]; ok {
				ev.Parent = events[p].ID
			} else {
				ev.Custom = appendCustom(ev.Custom, "Reply to", rec.ReplyTo)
			}
		}
		for i, a := range rec.Attachments {
			if r.exported[i] == "" {
				ev.Custom = appendCustom(ev.Custom, "Attachment", attachmentLine(i, a, ""))
				continue
			}
			name := idComponent(rec.ID) + "-" + attachmentName(i, a.Name)
			ev.Attachments = append(ev.Attachments, RSMFAttachment{ID: name, Display: clean(orDefault(a.Name, name)), Size: max(a.Size, 0)})
			s.attachments = append(s.attachments, zipAttachment{name: name, rec: rec, index: i})
		}
		if rec.Kind == capture.KindMessage && rec.NativeID != "" {
			byNative[rec.NativeID] = len(events)
		}
		events = append(events, ev)
	}
	conv := RSMFConversation{ID: convID, Display: conversationLabel(recs[0].rec.Conversation), Platform: k.Channel,
		Type: rsmfConvType(recs[0].rec.Conversation.Type)}
	for _, p := range pb.list {
		conv.Participants = append(conv.Participants, p.ID)
		if conv.Custodian == "" && recs[0].rec.Account != "" && p.AccountID == recs[0].rec.Account {
			conv.Custodian = p.ID
		}
	}
	if conv.Participants == nil {
		conv.Participants = []string{}
	}
	conv.Custom = appendCustom(conv.Custom, "Vigil account", k.Account)
	conv.Custom = appendCustom(conv.Custom, "Custodian", s.custodian)
	conv.Custom = appendCustom(conv.Custom, "Conversation type", recs[0].rec.Conversation.Type)
	s.manifest = &RSMFManifest{Version: RSMFVersion, Participants: pb.list, Conversations: []RSMFConversation{conv},
		Events: events, EventCollectionID: k.collectionID()}
	if s.manifest.Participants == nil {
		s.manifest.Participants = []RSMFParticipant{}
	}
	return s
}

// fold applies an edit, recall, reaction or receipt to the message event it
// targets and reports whether it did; records it cannot express that way
// (a status that is no receipt, a reaction without its emoji) stay events.
func fold(ev *RSMFEvent, rec *capture.Record, pb *participantBook) bool {
	who := pb.id(rec.Sender)
	switch rec.Kind {
	case capture.KindEdit:
		if who == "" {
			return false
		}
		ev.Edits = append(ev.Edits, RSMFEdit{Participant: who, Timestamp: editTime(rec), Previous: ev.Body, New: rec.Text})
		ev.Body = rec.Text
	case capture.KindRecall:
		ev.Deleted = true
		ev.Custom = appendCustom(ev.Custom, "Recalled at", formatTime(rec.SentAt))
	case capture.KindReaction:
		if rec.Reaction == nil || rec.Reaction.Emoji == "" || who == "" {
			return false
		}
		foldReaction(ev, clean(rec.Reaction.Emoji), who, rec.Reaction.Removed)
	case capture.KindStatus:
		action := receiptAction(rec)
		if action == "" {
			return false
		}
		for _, m := range members(rec) {
			if id := pb.id(m); id != "" {
				ev.ReadReceipts = append(ev.ReadReceipts, RSMFReadReceipt{Participant: id, Timestamp: formatTime(rec.SentAt), Action: action})
			}
		}
	default:
		return false
	}
	ev.Custom = appendCustom(ev.Custom, rsmfFoldProps[rec.Kind], rec.ID)
	return true
}

// foldReaction adds or removes one participant's reaction.
func foldReaction(ev *RSMFEvent, emoji, who string, removed bool) {
	i := slices.IndexFunc(ev.Reactions, func(r RSMFReaction) bool { return r.Value == emoji })
	if removed {
		if i < 0 {
			return
		}
		r := &ev.Reactions[i]
		if j := slices.Index(r.Participants, who); j >= 0 {
			r.Participants = slices.Delete(r.Participants, j, j+1)
			r.Count--
		}
		if r.Count <= 0 {
			ev.Reactions = slices.Delete(ev.Reactions, i, i+1)
		}
		return
	}
	if i < 0 {
		ev.Reactions = append(ev.Reactions, RSMFReaction{Value: emoji})
		i = len(ev.Reactions) - 1
	}
	r := &ev.Reactions[i]
	if !slices.Contains(r.Participants, who) {
		r.Participants = append(r.Participants, who)
		r.Count++
	}
}

func editTime(rec *capture.Record) string {
	if rec.EditedAt != nil {
		return formatTime(*rec.EditedAt)
	}
	return formatTime(rec.SentAt)
}
