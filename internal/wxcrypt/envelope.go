package wxcrypt

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
)

// Format is an envelope's encoding.
type Format int

// Envelope formats.
const (
	FormatXML Format = iota + 1
	FormatJSON
)

// Envelope is the outer, unauthenticated part of an encrypted push. Nothing
// in it but Encrypt is trusted before the signature and decryption succeed.
type Envelope struct {
	Format     Format
	ToUserName string
	AgentID    string
	Encrypt    string
}

type xmlEnvelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	AgentID    string   `xml:"AgentID"`
	Encrypt    string   `xml:"Encrypt"`
}

// jsonEnvelope matches both WeCom's lower-case keys and the Mini Program's
// capitalised ones (encoding/json matches keys case-insensitively).
type jsonEnvelope struct {
	ToUserName string          `json:"tousername"`
	AgentID    json.RawMessage `json:"agentid"`
	Encrypt    string          `json:"encrypt"`
}

// ParseEnvelope reads an XML or JSON envelope, chosen by its first
// non-space byte.
func ParseEnvelope(body []byte) (Envelope, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return Envelope{}, ErrIllegalProtocol
	}
	switch trimmed[0] {
	case '<':
		var e xmlEnvelope
		if err := xml.Unmarshal(trimmed, &e); err != nil {
			return Envelope{}, detail(ErrParseXML, "%v", err)
		}
		if e.Encrypt == "" {
			return Envelope{}, detail(ErrParseXML, "no Encrypt element")
		}
		return Envelope{Format: FormatXML, ToUserName: e.ToUserName, AgentID: e.AgentID, Encrypt: e.Encrypt}, nil
	case '{':
		var e jsonEnvelope
		if err := json.Unmarshal(trimmed, &e); err != nil {
			return Envelope{}, detail(ErrParseJSON, "%v", err)
		}
		if e.Encrypt == "" {
			return Envelope{}, detail(ErrParseJSON, "no encrypt field")
		}
		return Envelope{Format: FormatJSON, ToUserName: e.ToUserName, AgentID: jsonScalar(e.AgentID), Encrypt: e.Encrypt}, nil
	}
	return Envelope{}, ErrIllegalProtocol
}

// jsonScalar renders a JSON number or string as text ("218" for 218 or "218").
func jsonScalar(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// ReplyXML is the passive-reply envelope. Values are written verbatim, so
// any that could break out of their element is refused.
func ReplyXML(encrypted, msgSignature, timestamp, nonce string) ([]byte, error) {
	for _, v := range []string{encrypted, msgSignature, timestamp, nonce} {
		if strings.ContainsAny(v, "<>&") {
			return nil, ErrGenReturnXML
		}
	}
	return []byte("<xml><Encrypt><![CDATA[" + encrypted + "]]></Encrypt><MsgSignature><![CDATA[" + msgSignature +
		"]]></MsgSignature><TimeStamp>" + timestamp + "</TimeStamp><Nonce><![CDATA[" + nonce + "]]></Nonce></xml>"), nil
}

// ReplyJSON is the JSON passive-reply envelope.
func ReplyJSON(encrypted, msgSignature, timestamp, nonce string) ([]byte, error) {
	b, err := json.Marshal(map[string]string{"encrypt": encrypted, "msgsignature": msgSignature, "timestamp": timestamp, "nonce": nonce})
	if err != nil {
		return nil, ErrGenJSON
	}
	return b, nil
}
