package wecom

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
)

// scalar is a field that WeCom sends as text in XML and as a string or a
// number in JSON (MsgId, CreateTime, AgentID). Numbers keep their exact
// digits: a 64-bit MsgId must not pass through float64.
type scalar string

// UnmarshalJSON accepts a string, a number, a boolean or null.
func (s *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
		return nil
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
		return nil
	case string(b) == "true" || string(b) == "false":
		*s = scalar(b)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("expected a string or a number: %w", err)
	}
	*s = scalar(n.String())
	return nil
}

// appMessage is a decrypted callback: a message a user sent to the app, or
// an event. Field names follow 接收消息与事件; only what is mapped is read.
// encoding/json matches keys case-insensitively, so the JSON callbacks'
// spellings (ToUserName or tousername) both work.
type appMessage struct {
	XMLName      xml.Name `xml:"xml" json:"-"`
	ToUserName   scalar   `xml:"ToUserName" json:"ToUserName"`
	FromUserName scalar   `xml:"FromUserName" json:"FromUserName"`
	CreateTime   scalar   `xml:"CreateTime" json:"CreateTime"`
	MsgType      scalar   `xml:"MsgType" json:"MsgType"`
	MsgID        scalar   `xml:"MsgId" json:"MsgId"`
	AgentID      scalar   `xml:"AgentID" json:"AgentID"`

	// Message bodies.
	Content      scalar `xml:"Content" json:"Content"`
	PicURL       scalar `xml:"PicUrl" json:"PicUrl"`
	MediaID      scalar `xml:"MediaId" json:"MediaId"`
	Format       scalar `xml:"Format" json:"Format"`
	ThumbMediaID scalar `xml:"ThumbMediaId" json:"ThumbMediaId"`
	LocationX    scalar `xml:"Location_X" json:"Location_X"`
	LocationY    scalar `xml:"Location_Y" json:"Location_Y"`
	Scale        scalar `xml:"Scale" json:"Scale"`
	Label        scalar `xml:"Label" json:"Label"`
	Title        scalar `xml:"Title" json:"Title"`
	Description  scalar `xml:"Description" json:"Description"`
	URL          scalar `xml:"Url" json:"Url"`
	FileName     scalar `xml:"FileName" json:"FileName"`
	FileSize     scalar `xml:"FileSize" json:"FileSize"`

	// Events.
	Event          scalar `xml:"Event" json:"Event"`
	EventKey       scalar `xml:"EventKey" json:"EventKey"`
	ChangeType     scalar `xml:"ChangeType" json:"ChangeType"`
	UserID         scalar `xml:"UserID" json:"UserID"`
	ExternalUserID scalar `xml:"ExternalUserID" json:"ExternalUserID"`
	ChatID         scalar `xml:"ChatId" json:"ChatId"`
	State          scalar `xml:"State" json:"State"`
	// kf_msg_or_event.
	Token    scalar `xml:"Token" json:"Token"`
	OpenKfID scalar `xml:"OpenKfId" json:"OpenKfId"`
}

// Message types and events the handler treats specially.
const (
	msgTypeEvent        = "event"
	eventMsgAuditNotify = "msgaudit_notify"
	eventKfMsgOrEvent   = "kf_msg_or_event"
)

var errEmptyMessage = errors.New("decrypted message is empty")

// parseAppMessage reads a decrypted callback, XML or JSON by its first
// non-space byte. It needs MsgType; everything else is optional.
func parseAppMessage(plain []byte) (*appMessage, error) {
	trimmed := bytes.TrimLeft(plain, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return nil, errEmptyMessage
	}
	var m appMessage
	switch trimmed[0] {
	case '<':
		if err := xml.Unmarshal(trimmed, &m); err != nil {
			return nil, fmt.Errorf("decrypted XML message: %w", err)
		}
	case '{':
		if err := json.Unmarshal(trimmed, &m); err != nil {
			return nil, fmt.Errorf("decrypted JSON message: %w", err)
		}
	default:
		return nil, errors.New("decrypted message is neither XML nor JSON")
	}
	if m.MsgType == "" {
		return nil, errors.New("decrypted message has no MsgType")
	}
	return &m, nil
}

// dedupeKey identifies a delivery across WeCom's retries: MsgId for
// messages; for events, which have none, FromUserName+CreateTime+Event as
// the vendor recommends, plus the fields that tell apart several events of
// one second (two contacts added at once are both from "sys").
func (m *appMessage) dedupeKey() string {
	if m.MsgID != "" {
		return "msg\x00" + string(m.MsgID)
	}
	return "evt\x00" + string(m.FromUserName) + "\x00" + string(m.CreateTime) + "\x00" + string(m.Event) +
		"\x00" + string(m.ChangeType) + "\x00" + string(m.UserID) + "\x00" + string(m.ExternalUserID) +
		"\x00" + string(m.ChatID) + "\x00" + string(m.OpenKfID) + "\x00" + string(m.Token)
}
