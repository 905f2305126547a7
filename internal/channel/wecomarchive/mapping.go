package wecomarchive

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/wecom"
)

// ChannelName is capture.Record.Channel for this channel.
const ChannelName = "wecom_archive"

// Envelope is capture.RawRef.Envelope of archive records.
const Envelope = "wecom-archive-rsa"

// pullMeta is what the puller knows about a message beyond its plaintext.
type pullMeta struct {
	corpID string
	seq    uint64
	keyVer int
	msgID  string // chatdata msgid, used when the plaintext lacks one
	now    time.Time
}

// mediaRef ties an attachment of a record to what GetMediaData needs.
type mediaRef struct {
	index     int // into Record.Attachments
	sdkFileID string
	md5       string
	size      int64
}

// mediaFields are the keys media objects share across msgtypes.
type mediaFields struct {
	MD5Sum    string `json:"md5sum"`
	FileSize  int64  `json:"filesize"`
	VoiceSize int64  `json:"voice_size"`
	ImageSize int64  `json:"imagesize"`
	SDKFileID string `json:"sdkfileid"`
	FileName  string `json:"filename"`
	FileExt   string `json:"fileext"`
	Type      int    `json:"type"`
}

func (f mediaFields) size() int64 {
	switch {
	case f.FileSize > 0:
		return f.FileSize
	case f.VoiceSize > 0:
		return f.VoiceSize
	}
	return f.ImageSize
}

// mapMessage turns a decrypted message into a capture.v1 record and the
// media its attachments need. It never fails: a message it cannot read is
// kept as msgType "unknown" so that nothing is dropped.
func mapMessage(plain []byte, meta pullMeta) (*capture.Record, []mediaRef) {
	sum := sha256.Sum256(plain)
	seq := meta.seq
	rec := &capture.Record{
		Channel:    ChannelName,
		Tenant:     meta.corpID,
		Account:    meta.corpID,
		NativeID:   meta.msgID,
		NativeSeq:  &seq,
		Kind:       capture.KindMessage,
		MsgType:    "unknown",
		SentAt:     meta.now,
		Raw:        capture.RawRef{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(plain)), ContentType: "application/json", Envelope: Envelope},
		Provenance: capture.Provenance{KeyVersion: strconv.Itoa(meta.keyVer), Cursor: strconv.FormatUint(meta.seq, 10)},
	}
	m, err := ParseMessage(plain)
	if err != nil {
		rec.NativeType = "unparseable"
		return rec, nil
	}
	if m.MsgID != "" && len(m.MsgID) <= capture.MaxIDBytes {
		rec.NativeID = m.MsgID
	}
	if rec.NativeID == "" {
		rec.NativeID = "seq:" + strconv.FormatUint(meta.seq, 10)
	}
	if m.Action == "switch" {
		mapSwitch(rec, m)
		return rec, nil
	}
	rec.NativeType = m.MsgType
	if m.MsgTime > 0 {
		rec.SentAt = time.UnixMilli(m.MsgTime).UTC()
	}
	rec.Sender = participant(m.From)
	for i, to := range m.ToList {
		if i == capture.MaxRecipients {
			break
		}
		rec.Recipients = append(rec.Recipients, participant(to))
	}
	rec.Conversation = conversation(m)
	rec.Direction = direction(m, rec)
	var refs []mediaRef
	addMedia := func(f mediaFields, name, mime string) {
		if f.SDKFileID == "" && f.MD5Sum == "" {
			return
		}
		if len(rec.Attachments) == capture.MaxAttachments {
			return
		}
		a := capture.Attachment{NativeRef: truncateID(f.SDKFileID), Name: name, MIME: mime, Size: f.size(), ProviderMD5: f.MD5Sum, State: "pending"}
		rec.Attachments = append(rec.Attachments, a)
		if f.SDKFileID != "" {
			refs = append(refs, mediaRef{index: len(rec.Attachments) - 1, sdkFileID: f.SDKFileID, md5: f.MD5Sum, size: f.size()})
		}
	}
	mapBody(rec, m, addMedia)
	rec.Text = clampText(rec.Text)
	return rec, refs
}

type addMediaFunc func(f mediaFields, name, mime string)

// textBody describes a msgtype whose text is string fields of one JSON
// object, joined: the vendor's key for the object (docmsg uses "doc",
// markdown "info"), capture.v1's msgType, and the fields in reading order.
type textBody struct {
	key, msgType, sep string
	fields            []string
}

// textBodies are the msgtypes that carry text and nothing else.
var textBodies = map[string]textBody{
	"text":     {"text", "text", "", []string{"content"}},
	"card":     {"card", "contact_card", " ", []string{"corpname", "userid"}},
	"link":     {"link", "link", "\n", []string{"title", "description", "link_url"}},
	"weapp":    {"weapp", "mini_program", "\n", []string{"title", "description", "displayname"}},
	"meeting":  {"meeting", "meeting", "", []string{"topic"}},
	"docmsg":   {"doc", "doc", "\n", []string{"title", "link_url"}},
	"markdown": {"info", "markdown", "", []string{"content"}},
	"calendar": {"calendar", "calendar", "\n", []string{"title", "place", "remarks"}},
	"todo":     {"todo", "todo", "\n", []string{"title", "content"}},
	"sphfeed":  {"sphfeed", "channels_feed", "\n", []string{"sph_name", "feed_desc"}},
}

// fieldText joins the string fields named of the object under key; other
// types and missing fields are skipped.
func fieldText(m *Message, tb textBody) string {
	var obj map[string]json.RawMessage
	m.Field(tb.key, &obj)
	parts := make([]string, 0, len(tb.fields))
	for _, name := range tb.fields {
		var v string
		if json.Unmarshal(obj[name], &v) == nil {
			parts = append(parts, v)
		}
	}
	return joinTrimmed(tb.sep, parts...)
}

// mapBody fills MsgType, Kind, Text and attachments per msgtype.
func mapBody(rec *capture.Record, m *Message, addMedia addMediaFunc) {
	if tb, ok := textBodies[m.MsgType]; ok {
		rec.MsgType, rec.Text = tb.msgType, fieldText(m, tb)
		return
	}
	var f mediaFields
	switch m.MsgType {
	case "image":
		m.Field("image", &f)
		rec.MsgType = "image"
		addMedia(f, "", "image/jpeg")
	case "revoke":
		var r struct {
			PreMsgID string `json:"pre_msgid"`
		}
		m.Field("revoke", &r)
		rec.MsgType, rec.Kind, rec.Target = "recall", capture.KindRecall, truncateID(r.PreMsgID)
	case "agree", "disagree":
		var a struct {
			UserID        string `json:"userid"`
			AgreeTime     int64  `json:"agree_time"`
			DisagreeTime  int64  `json:"disagree_time"`
			StatusChanged int64  `json:"status_change_time"`
		}
		m.Field(m.MsgType, &a)
		at := a.AgreeTime
		if m.MsgType == "disagree" {
			at = a.DisagreeTime
		}
		state := capture.ConsentAgree
		if m.MsgType == "disagree" {
			state = capture.ConsentDisagree
		}
		subject := a.UserID
		if subject == "" {
			subject = m.From
		}
		rec.MsgType, rec.Kind = "consent", capture.KindConsent
		if subject != "" {
			c := &capture.Consent{SubjectID: truncateID(subject), State: state, At: rec.SentAt}
			if at > 0 {
				c.At = time.UnixMilli(at).UTC()
			}
			rec.Consent = c
		}
	case "voice":
		m.Field("voice", &f)
		rec.MsgType = "audio"
		addMedia(f, "", "audio/amr")
	case "video":
		m.Field("video", &f)
		rec.MsgType = "video"
		addMedia(f, "", "video/mp4")
	case "location":
		var l struct {
			Longitude float64 `json:"longitude"`
			Latitude  float64 `json:"latitude"`
			Address   string  `json:"address"`
			Title     string  `json:"title"`
		}
		m.Field("location", &l)
		rec.MsgType = "location"
		rec.Text = joinTrimmed("\n", l.Title, l.Address, fmt.Sprintf("%.6f,%.6f", l.Latitude, l.Longitude))
	case "emotion":
		m.Field("emotion", &f)
		mime := "image/gif"
		if f.Type == 2 {
			mime = "image/png"
		}
		rec.MsgType = "sticker"
		addMedia(f, "", mime)
	case "file":
		m.Field("file", &f)
		rec.MsgType, rec.Text = "file", f.FileName
		addMedia(f, f.FileName, mimeForExt(f.FileExt))
	case "chatrecord":
		var c struct {
			Title string     `json:"title"`
			Item  []itemJSON `json:"item"`
		}
		m.Field("chatrecord", &c)
		rec.MsgType, rec.Text = "chat_record", joinTrimmed("\n", c.Title, itemsText(c.Item, addMedia))
	case "collect":
		var c struct {
			Title   string `json:"title"`
			Details []struct {
				Ques string `json:"ques"`
			} `json:"details"`
		}
		m.Field("collect", &c)
		parts := []string{c.Title}
		for _, d := range c.Details {
			parts = append(parts, d.Ques)
		}
		rec.MsgType, rec.Text = "form", joinTrimmed("\n", parts...)
	case "redpacket", "external_redpacket":
		var r struct {
			Wish        string `json:"wish"`
			TotalAmount int64  `json:"totalamount"`
		}
		if !m.Field("redpacket", &r) {
			m.Field("external_redpacket", &r)
		}
		rec.MsgType, rec.Text = "red_packet", r.Wish
	case "news":
		var n struct {
			Item []struct {
				Title       string `json:"title"`
				Description string `json:"description"`
				URL         string `json:"url"`
			} `json:"item"`
		}
		m.Field("info", &n)
		var parts []string
		for _, it := range n.Item {
			parts = append(parts, joinTrimmed("\n", it.Title, it.Description, it.URL))
		}
		rec.MsgType, rec.Text = "news", joinTrimmed("\n\n", parts...)
	case "mixed":
		var mx struct {
			Item []itemJSON `json:"item"`
		}
		m.Field("mixed", &mx)
		rec.MsgType, rec.Text = "mixed", itemsText(mx.Item, addMedia)
	case "meeting_voice_call":
		var c mediaFields
		m.Field("meeting_voice_call", &c)
		rec.MsgType = "call_recording"
		if m.VoiceID != "" && m.RoomID == "" {
			rec.Conversation = capture.Conversation{ID: truncateConv("voice:" + m.VoiceID), Type: "group"}
		}
		addMedia(c, "", "")
	case "vote":
		type vote struct {
			VoteTitle string   `json:"votetitle"`
			VoteItem  []string `json:"voteitem"`
		}
		var v vote
		if !m.Field("vote", &v) || v.VoteTitle == "" {
			m.Field("votetitle", &v.VoteTitle)
			m.Field("voteitem", &v.VoteItem)
		}
		rec.MsgType, rec.Text = "vote", joinTrimmed("\n", append([]string{v.VoteTitle}, v.VoteItem...)...)
	case "voip_doc_share":
		m.Field("voip_doc_share", &f)
		rec.MsgType, rec.Text = "file", f.FileName
		addMedia(f, f.FileName, mimeForExt(extOf(f.FileName)))
	default:
		rec.MsgType = "unknown"
	}
}

// itemJSON is a chatrecord or mixed item: its content is JSON in a string.
type itemJSON struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

// itemsText extracts the text of chatrecord/mixed items and adds the media
// they carry.
func itemsText(items []itemJSON, addMedia addMediaFunc) string {
	var parts []string
	for _, it := range items {
		var c struct {
			mediaFields
			Content string `json:"content"`
			Title   string `json:"title"`
		}
		if json.Unmarshal([]byte(it.Content), &c) != nil {
			continue
		}
		if t := joinTrimmed(" ", c.Title, c.Content); t != "" {
			parts = append(parts, t)
		}
		if c.SDKFileID != "" {
			addMedia(c.mediaFields, c.FileName, itemMIME(it.Type, c.FileExt))
		}
	}
	return strings.Join(parts, "\n")
}

func itemMIME(itemType, ext string) string {
	t := strings.ToLower(strings.TrimPrefix(itemType, "ChatRecord"))
	switch t {
	case "image":
		return "image/jpeg"
	case "voice":
		return "audio/amr"
	case "video":
		return "video/mp4"
	case "emotion":
		return "image/gif"
	}
	return mimeForExt(ext)
}

func mapSwitch(rec *capture.Record, m *Message) {
	rec.Kind = capture.KindStatus
	rec.MsgType, rec.NativeType = "switch", "switch"
	if m.Time > 0 {
		rec.SentAt = time.UnixMilli(m.Time).UTC()
	}
	rec.Sender = participant(m.User)
	rec.Text = "switched enterprise"
}

// participant classifies an archived id (see wecom.Participant), bounded to
// capture.v1's id length.
func participant(id string) capture.Participant {
	return wecom.Participant(truncateID(id))
}

// conversation is the room, or a stable id for a 1:1 chat: the two ids,
// sorted, so both directions land in the same conversation.
func conversation(m *Message) capture.Conversation {
	if m.RoomID != "" {
		return capture.Conversation{ID: truncateConv(m.RoomID), Type: "group"}
	}
	ids := []string{m.From}
	if len(m.ToList) > 0 {
		ids = append(ids, m.ToList[0])
	}
	sort.Strings(ids)
	return capture.Conversation{ID: truncateConv("single:" + strings.Join(ids, "|")), Type: "direct"}
}

// direction is relative to the corp: from outside in is inbound, from a
// member to anyone outside is outbound. A msgid ending in _external is an
// external message even when the ids do not show it.
func direction(m *Message, rec *capture.Record) capture.Direction {
	if rec.Sender.Affiliation == capture.AffiliationExternal || rec.Sender.Affiliation == capture.AffiliationBot {
		return capture.DirectionInbound
	}
	for _, r := range rec.Recipients {
		if r.Affiliation == capture.AffiliationExternal || r.Affiliation == capture.AffiliationBot {
			return capture.DirectionOutbound
		}
	}
	if strings.HasSuffix(m.MsgID, "_external") {
		return ""
	}
	return capture.DirectionInternal
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return ""
}

var extMIME = map[string]string{
	"pdf": "application/pdf", "doc": "application/msword", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"xls": "application/vnd.ms-excel", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"ppt": "application/vnd.ms-powerpoint", "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"txt": "text/plain", "zip": "application/zip", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
	"gif": "image/gif", "mp4": "video/mp4", "amr": "audio/amr", "mp3": "audio/mpeg",
}

func mimeForExt(ext string) string {
	return extMIME[strings.ToLower(ext)]
}

// clampText makes provider text fit capture.v1: valid UTF-8, within the
// text limit.
func clampText(s string) string {
	return capture.Clip(strings.ToValidUTF8(s, "\uFFFD"), capture.MaxTextBytes)
}

func truncateID(s string) string { return capture.Clip(s, capture.MaxIDBytes) }

func truncateConv(s string) string { return capture.Clip(s, capture.MaxConversationBytes) }

// joinTrimmed joins parts trimmed of surrounding space: the archive's JSON
// carries stray whitespace (a mixed item's text ends in "\n", a news title
// in a space) that is layout, not content.
func joinTrimmed(sep string, parts ...string) string {
	trimmed := make([]string, len(parts))
	for i, p := range parts {
		trimmed[i] = strings.TrimSpace(p)
	}
	return capture.JoinText(sep, trimmed...)
}
