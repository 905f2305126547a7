package wechatoa

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxTopLevelFields bounds the fields inspected in a body; real pushes have
// fewer than 30.
const maxTopLevelFields = 256

// topLevelFields lists the names of a body's top-level XML elements or JSON
// keys, so the handler can tell a secure-mode body (ToUserName and Encrypt
// only) from a compatible one that also carries the plaintext.
func topLevelFields(body []byte) ([]string, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty body", errMalformed)
	}
	switch trimmed[0] {
	case '<':
		return xmlFields(trimmed)
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &obj); err != nil {
			return nil, fmt.Errorf("%w: json: %v", errMalformed, err)
		}
		if len(obj) > maxTopLevelFields {
			return nil, fmt.Errorf("%w: more than %d fields", errMalformed, maxTopLevelFields)
		}
		names := make([]string, 0, len(obj))
		for k := range obj {
			names = append(names, k)
		}
		return names, nil
	}
	return nil, fmt.Errorf("%w: body is neither XML nor JSON", errMalformed)
}

func xmlFields(body []byte) ([]string, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var names []string
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if depth != 0 {
				return nil, fmt.Errorf("%w: xml: unexpected end", errMalformed)
			}
			return names, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: xml: %v", errMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 1 {
				if len(names) == maxTopLevelFields {
					return nil, fmt.Errorf("%w: more than %d fields", errMalformed, maxTopLevelFields)
				}
				names = append(names, t.Name.Local)
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

// isSecureForm reports whether a body holds nothing but ToUserName and
// Encrypt (names compared case-insensitively, as WeCom's JSON is lower case).
func isSecureForm(fields []string) bool {
	for _, f := range fields {
		if !strings.EqualFold(f, "ToUserName") && !strings.EqualFold(f, "Encrypt") {
			return false
		}
	}
	return true
}
