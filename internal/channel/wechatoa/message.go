package wechatoa

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// errMalformed classes every parse failure of a message body.
var errMalformed = errors.New("malformed message")

// scalar is a field that WeChat sends as a number in JSON and as text in
// XML (CreateTime, MsgId, MsgDataId, Idx); it keeps the decimal text.
type scalar string

// UnmarshalJSON accepts a JSON string or number.
func (s *scalar) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
		return nil
	}
	if string(b) == "null" {
		*s = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*s = scalar(n.String())
	return nil
}

// Message is one pushed message or event, in either the 公众号 XML format
// or the mini-program JSON format (the same field names).
type Message struct {
	ToUserName   string `xml:"ToUserName" json:"ToUserName"`
	FromUserName string `xml:"FromUserName" json:"FromUserName"`
	CreateTime   scalar `xml:"CreateTime" json:"CreateTime"`
	MsgType      string `xml:"MsgType" json:"MsgType"`
	MsgID        scalar `xml:"MsgId" json:"MsgId"`
	// text
	Content   string `xml:"Content" json:"Content"`
	MsgDataID scalar `xml:"MsgDataId" json:"MsgDataId"`
	Idx       scalar `xml:"Idx" json:"Idx"`
	// image, voice, video, shortvideo
	PicURL       string `xml:"PicUrl" json:"PicUrl"`
	MediaID      string `xml:"MediaId" json:"MediaId"`
	Format       string `xml:"Format" json:"Format"`
	Recognition  string `xml:"Recognition" json:"Recognition"`
	ThumbMediaID string `xml:"ThumbMediaId" json:"ThumbMediaId"`
	// location
	LocationX scalar `xml:"Location_X" json:"Location_X"`
	LocationY scalar `xml:"Location_Y" json:"Location_Y"`
	Scale     scalar `xml:"Scale" json:"Scale"`
	Label     string `xml:"Label" json:"Label"`
	// link
	Title       string `xml:"Title" json:"Title"`
	Description string `xml:"Description" json:"Description"`
	URL         string `xml:"Url" json:"Url"`
	// event
	Event     string `xml:"Event" json:"Event"`
	EventKey  string `xml:"EventKey" json:"EventKey"`
	Ticket    string `xml:"Ticket" json:"Ticket"`
	Latitude  scalar `xml:"Latitude" json:"Latitude"`
	Longitude scalar `xml:"Longitude" json:"Longitude"`
	Precision scalar `xml:"Precision" json:"Precision"`

	// Format of the body it was parsed from.
	format wxcrypt.Format
	// sentAt is CreateTime, checked.
	sentAt time.Time
}

type xmlMessage struct {
	XMLName xml.Name `xml:"xml"`
	Message
}

// parseMessage decodes a plaintext message, XML or JSON by its first byte,
// and checks the fields every message has.
func parseMessage(body []byte) (*Message, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty body", errMalformed)
	}
	var m *Message
	switch trimmed[0] {
	case '<':
		var x xmlMessage
		if err := xml.Unmarshal(trimmed, &x); err != nil {
			return nil, fmt.Errorf("%w: xml: %v", errMalformed, err)
		}
		m = &x.Message
		m.format = wxcrypt.FormatXML
	case '{':
		m = &Message{}
		if err := json.Unmarshal(trimmed, m); err != nil {
			return nil, fmt.Errorf("%w: json: %v", errMalformed, err)
		}
		m.format = wxcrypt.FormatJSON
	default:
		return nil, fmt.Errorf("%w: body is neither XML nor JSON", errMalformed)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// check requires the fields every push carries.
func (m *Message) check() error {
	switch {
	case m.ToUserName == "":
		return fmt.Errorf("%w: ToUserName is missing", errMalformed)
	case m.FromUserName == "":
		return fmt.Errorf("%w: FromUserName is missing", errMalformed)
	case m.MsgType == "":
		return fmt.Errorf("%w: MsgType is missing", errMalformed)
	case m.MsgType == "event" && m.Event == "":
		return fmt.Errorf("%w: event without Event", errMalformed)
	}
	n, err := strconv.ParseInt(string(m.CreateTime), 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return fmt.Errorf("%w: CreateTime %q is not unix seconds", errMalformed, truncate(string(m.CreateTime)))
	}
	m.sentAt = time.Unix(n, 0).UTC()
	if m.MsgType != "event" && m.MsgID == "" {
		return fmt.Errorf("%w: %s message without MsgId", errMalformed, truncate(m.MsgType))
	}
	return nil
}

// DedupeKey is what WeChat's retries share: MsgId, or for events (which
// have none) FromUserName, CreateTime and Event.
func (m *Message) DedupeKey() string {
	if m.MsgID != "" {
		return "msg\x00" + string(m.MsgID)
	}
	return "event\x00" + m.FromUserName + "\x00" + string(m.CreateTime) + "\x00" + m.Event
}

// agrees reports whether a compatible-mode plaintext copy says the same as
// the decrypted message, on the fields a forger would change. A copy
// without those fields (a secure-form body) agrees trivially.
func (m *Message) agrees(copy *Message) bool {
	return copy.FromUserName == m.FromUserName && copy.ToUserName == m.ToUserName &&
		copy.CreateTime == m.CreateTime && copy.MsgType == m.MsgType && copy.MsgID == m.MsgID &&
		copy.Content == m.Content && copy.Event == m.Event && copy.MediaID == m.MediaID && copy.URL == m.URL
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
