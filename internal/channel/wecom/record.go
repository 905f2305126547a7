package wecom

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/inbound"
)

// Names recorded in capture.v1.
const (
	// ChannelName is capture.Record.Channel for app callbacks.
	ChannelName = "wecom_callback"
	// SigScheme is provenance.sigScheme of callback records.
	SigScheme = "wecom-msg-signature-sha1"
	// EnvelopeAES is raw.envelope of callback records.
	EnvelopeAES = "wecom-aes"
	// nativeTypeUnparsed marks an authentic message that could not be parsed.
	nativeTypeUnparsed = "unparsed"
)

// appMsgTypes maps the app message types of 接收消息与事件 to capture.v1's
// normalised msgType.
var appMsgTypes = map[string]string{
	"text": "text", "image": "image", "voice": "audio", "video": "video",
	"location": "location", "link": "link", "file": "file",
}

// membershipEvents change who is in the corp, a contact list or a chat; the
// other events are system records.
var membershipEvents = map[string]bool{
	"subscribe": true, "unsubscribe": true, "change_contact": true,
	"change_external_contact": true, "change_external_chat": true,
}

// rawRef describes the decrypted message bytes, which are what WeCom signed
// (through the ciphertext) and what the record was mapped from.
func rawRef(plain []byte) capture.RawRef {
	sum := sha256.Sum256(plain)
	ct := "application/xml"
	if t := strings.TrimLeft(string(plain[:min(len(plain), 8)]), " \t\r\n\ufeff"); strings.HasPrefix(t, "{") {
		ct = "application/json"
	}
	return capture.RawRef{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(plain)), ContentType: ct, Envelope: EnvelopeAES}
}

// recordMeta is what every callback record shares.
type recordMeta struct {
	channel    string
	tenant     string
	receivedAt time.Time
}

// appRecord maps a decrypted app callback to capture.v1.
func appRecord(m *appMessage, plain []byte, meta recordMeta) *capture.Record {
	r := &capture.Record{
		Channel:    meta.channel,
		Tenant:     meta.tenant,
		Account:    cleanID(string(m.AgentID)),
		NativeType: string(m.MsgType),
		SentAt:     sentAt(m.CreateTime, meta.receivedAt),
		Raw:        rawRef(plain),
		Provenance: capture.Provenance{SigVerified: true, SigScheme: SigScheme},
	}
	r.Sender = cleanParticipant(Participant(string(m.FromUserName)))
	if m.AgentID != "" {
		r.Recipients = []capture.Participant{{ID: r.Account, IDType: idTypeAgentID, Affiliation: capture.AffiliationBot}}
	}
	r.Conversation = capture.Conversation{ID: cleanID("agent:" + string(m.AgentID) + ":" + string(m.FromUserName)), Type: "direct"}
	if m.ChatID != "" {
		r.Conversation = capture.Conversation{ID: cleanID(string(m.ChatID)), Type: "group"}
	}

	if string(m.MsgType) == msgTypeEvent {
		mapEvent(r, m)
	} else {
		mapAppMessage(r, m)
	}
	r.NativeID = cleanID(nativeID(m, plain))
	r.SetDedupKey()
	return r
}

// nativeID is MsgId, or for events (which have none) the dedupe identity,
// hashed so that it is stable and bounded.
func nativeID(m *appMessage, plain []byte) string {
	if m.MsgID != "" {
		return string(m.MsgID)
	}
	if m.MsgType != msgTypeEvent {
		sum := sha256.Sum256(plain)
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	sum := sha256.Sum256([]byte(m.dedupeKey()))
	return "event:" + hex.EncodeToString(sum[:16])
}

func mapAppMessage(r *capture.Record, m *appMessage) {
	r.Kind = capture.KindMessage
	r.Direction = directionFrom(r.Sender)
	t, ok := appMsgTypes[string(m.MsgType)]
	if !ok {
		t = "unknown"
	}
	r.MsgType = t
	switch string(m.MsgType) {
	case "text":
		r.Text = cleanText(string(m.Content))
	case "location":
		r.Text = cleanText(strings.TrimSpace(string(m.Label) + " (" + string(m.LocationX) + "," + string(m.LocationY) + ")"))
	case "link":
		r.Text = cleanText(capture.JoinText("\n", string(m.Title), string(m.Description), string(m.URL)))
	}
	if m.MediaID != "" || m.PicURL != "" {
		ref := string(m.MediaID)
		if ref == "" {
			ref = string(m.PicURL)
		}
		r.Attachments = []capture.Attachment{{
			NativeRef: capture.Clip(ref, capture.MaxIDBytes), Name: capture.Clip(strings.ToValidUTF8(string(m.FileName), ""), 1024),
			MIME: mimeFor(string(m.MsgType), string(m.Format)), State: "pending",
		}}
	}
}

// mimeFor guesses the content type WeCom's media/get will return.
func mimeFor(msgType, format string) string {
	switch msgType {
	case "image":
		return "image/jpeg"
	case "voice":
		if strings.EqualFold(format, "amr") || format == "" {
			return "audio/amr"
		}
		return ""
	case "video":
		return "video/mp4"
	}
	return ""
}

func mapEvent(r *capture.Record, m *appMessage) {
	r.Kind = capture.KindSystem
	if membershipEvents[string(m.Event)] {
		r.Kind = capture.KindMembership
	}
	r.NativeType = capture.JoinText(".", msgTypeEvent, string(m.Event), string(m.ChangeType))
	// Contact events name the member and the external contact concerned.
	for _, id := range []string{string(m.UserID), string(m.ExternalUserID)} {
		if id != "" {
			r.Recipients = append(r.Recipients, cleanParticipant(Participant(id)))
		}
	}
	if m.UserID != "" && m.ExternalUserID != "" {
		r.Conversation = capture.Conversation{ID: cleanID(string(m.UserID) + ":" + string(m.ExternalUserID)), Type: "direct"}
	}
}

// sentAt reads CreateTime, falling back to the receive time when WeCom sent
// none (capture.v1 requires sentAt).
func sentAt(createTime scalar, fallback time.Time) time.Time {
	if t, err := inbound.ParseUnixSeconds(string(createTime)); err == nil && t.Unix() > 0 {
		return t.UTC()
	}
	return fallback.UTC()
}

// unparsedRecord keeps an authentic callback whose plaintext could not be
// parsed, so that nothing WeCom delivered is lost: the bytes go in text
// (when they are valid UTF-8) and the raw hash lets an auditor match them.
func unparsedRecord(plain []byte, meta recordMeta) *capture.Record {
	sum := sha256.Sum256(plain)
	r := &capture.Record{
		Channel:    meta.channel,
		Tenant:     meta.tenant,
		NativeID:   "sha256:" + hex.EncodeToString(sum[:]),
		Kind:       capture.KindSystem,
		MsgType:    "unknown",
		NativeType: nativeTypeUnparsed,
		Sender:     capture.Participant{Affiliation: capture.AffiliationUnknown},
		SentAt:     meta.receivedAt.UTC(),
		Raw:        rawRef(plain),
		Provenance: capture.Provenance{SigVerified: true, SigScheme: SigScheme},
	}
	r.Text = cleanText(string(plain))
	r.SetDedupKey()
	return r
}

// MsgTypeCaptureGap marks a system record that says messages exist that
// the connector could not capture.
const MsgTypeCaptureGap = "capture_gap"

// kfGapRecord says that a customer-service account announced messages the
// connector cannot sync (no corpSecret): a coverage hole made visible.
func kfGapRecord(m *appMessage, plain []byte, meta recordMeta) *capture.Record {
	r := appRecord(m, plain, meta)
	r.Kind = capture.KindSystem
	r.MsgType = MsgTypeCaptureGap
	r.Text = "WeChat Customer Service account " + string(m.OpenKfID) +
		" announced messages that were not synced: the account's Secret has no corpSecret (the customer-service secret)"
	return r
}
