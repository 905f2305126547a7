package wechatoa

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// Participant id types.
const (
	IDTypeOpenID   = "openid"
	IDTypeOAUserID = "gh_id"
)

// Raw envelopes.
const (
	EnvelopeAES  = "wecom-aes"
	EnvelopeNone = "none"
)

// msgTypes maps WeChat's MsgType to capture.v1's normalised msgType.
var msgTypes = map[string]string{
	"text": "text", "image": "image", "voice": "audio", "video": "video", "shortvideo": "video",
	"location": "location", "link": "link",
}

// voiceMIME maps a voice message's Format to a MIME type.
var voiceMIME = map[string]string{"amr": "audio/amr", "speex": "audio/speex"}

// toRecord maps a checked message to capture.v1. The raw reference is the
// plaintext message (after decryption), which the record was made from.
func toRecord(m *Message, plaintext []byte, encrypted bool, appID string) *capture.Record {
	sum := sha256.Sum256(plaintext)
	r := &capture.Record{
		SchemaVersion: capture.SchemaVersion,
		Channel:       ChannelName,
		Tenant:        appID,
		Account:       m.ToUserName,
		Kind:          capture.KindMessage,
		Conversation:  capture.Conversation{ID: m.ToUserName + "/" + m.FromUserName, Type: "direct"},
		Sender:        capture.Participant{ID: m.FromUserName, IDType: IDTypeOpenID, Affiliation: capture.AffiliationExternal},
		Recipients:    []capture.Participant{{ID: m.ToUserName, IDType: IDTypeOAUserID, Affiliation: capture.AffiliationInternal}},
		Direction:     capture.DirectionInbound,
		NativeType:    m.MsgType,
		SentAt:        m.sentAt,
		Raw: capture.RawRef{
			SHA256: hex.EncodeToString(sum[:]), Size: int64(len(plaintext)),
			ContentType: contentType(m.format), Envelope: EnvelopeNone,
		},
		Provenance: capture.Provenance{SigVerified: true, SigScheme: SigSchemePlain},
	}
	if encrypted {
		r.Raw.Envelope = EnvelopeAES
		r.Provenance.SigScheme = SigSchemeEncrypted
	}
	if m.MsgType == "event" {
		mapEvent(m, r)
	} else {
		mapMessage(m, r)
	}
	r.SetDedupKey()
	return r
}

func contentType(f wxcrypt.Format) string {
	if f == wxcrypt.FormatJSON {
		return "application/json"
	}
	return "application/xml"
}

func mapMessage(m *Message, r *capture.Record) {
	r.NativeID = string(m.MsgID)
	r.MsgType = msgTypes[m.MsgType]
	if r.MsgType == "" {
		r.MsgType = "unknown"
	}
	switch m.MsgType {
	case "text":
		r.Text = m.Content
		if m.MsgDataID != "" {
			// Sent from an article (图文消息): the article and its position.
			r.Conversation.ThreadID = "article:" + string(m.MsgDataID) + ":" + string(m.Idx)
		}
	case "image":
		r.Attachments = media(m.MediaID, "", "image")
	case "voice":
		// Recognition is WeChat's speech-to-text, when the account enabled it.
		r.Text = m.Recognition
		r.Attachments = media(m.MediaID, voiceMIME[strings.ToLower(m.Format)], "voice")
	case "video", "shortvideo":
		r.Attachments = append(media(m.MediaID, "", m.MsgType), media(m.ThumbMediaID, "", "thumbnail")...)
	case "location":
		r.Text = capture.JoinText("\n", m.Label, coordinates(string(m.LocationX), string(m.LocationY)))
	case "link":
		r.Text = capture.JoinText("\n", m.Title, m.Description, m.URL)
	default:
		r.Text = m.Content
	}
}

// mapEvent maps events: following and unfollowing are membership changes;
// the others (SCAN, LOCATION, CLICK, VIEW, ...) are system records that keep
// the event name and its key.
func mapEvent(m *Message, r *capture.Record) {
	r.NativeID = "event:" + m.FromUserName + ":" + string(m.CreateTime) + ":" + m.Event
	r.NativeType = m.Event
	switch m.Event {
	case "subscribe", "unsubscribe":
		r.Kind = capture.KindMembership
		// A subscribe from a parametric QR code carries qrscene_<scene>.
		r.Text = m.EventKey
	case "LOCATION":
		r.Kind = capture.KindSystem
		r.Text = string(m.Latitude) + "," + string(m.Longitude)
	default:
		r.Kind = capture.KindSystem
		r.Text = m.EventKey
	}
}

func media(id, mime, name string) []capture.Attachment {
	if id == "" {
		return nil
	}
	// Content is fetched separately (media/get), within WeChat's 3-day limit.
	return []capture.Attachment{{NativeRef: id, Name: name, MIME: mime, State: "pending"}}
}

// coordinates is "latitude,longitude", or "" when WeChat sent neither.
func coordinates(lat, lng string) string {
	if lat == "" && lng == "" {
		return ""
	}
	return lat + "," + lng
}
