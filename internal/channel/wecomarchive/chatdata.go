package wecomarchive

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ChatData is one element of a GetChatData answer. Raw keeps the element
// byte for byte, as the evidence of what the SDK returned.
type ChatData struct {
	Seq              uint64 `json:"seq"`
	MsgID            string `json:"msgid"`
	PublicKeyVer     int    `json:"publickey_ver"`
	EncryptRandomKey string `json:"encrypt_random_key"`
	EncryptChatMsg   string `json:"encrypt_chat_msg"`
	Raw              json.RawMessage
}

type chatDataResponse struct {
	ErrCode  int               `json:"errcode"`
	ErrMsg   string            `json:"errmsg"`
	ChatData []json.RawMessage `json:"chatdata"`
}

// ChatDataError is a GetChatData answer whose errcode is not 0 (an error of
// the archive server, passed through the SDK).
type ChatDataError struct {
	Code int
	Msg  string
}

func (e *ChatDataError) Error() string {
	return fmt.Sprintf("GetChatData errcode %d: %.200s", e.Code, e.Msg)
}

// ParseChatData reads a GetChatData answer: errcode must be 0, every
// element must have a seq, a msgid and both ciphertexts.
func ParseChatData(body []byte) ([]ChatData, error) {
	var resp chatDataResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("GetChatData answer is not JSON: %w", err)
	}
	if resp.ErrCode != 0 {
		return nil, &ChatDataError{Code: resp.ErrCode, Msg: resp.ErrMsg}
	}
	out := make([]ChatData, 0, len(resp.ChatData))
	for i, raw := range resp.ChatData {
		var cd ChatData
		if err := json.Unmarshal(raw, &cd); err != nil {
			return nil, fmt.Errorf("chatdata[%d]: %w", i, err)
		}
		switch {
		case cd.Seq == 0:
			return nil, fmt.Errorf("chatdata[%d]: seq missing", i)
		case cd.MsgID == "":
			return nil, fmt.Errorf("chatdata[%d] (seq %d): msgid missing", i, cd.Seq)
		case cd.EncryptRandomKey == "" || cd.EncryptChatMsg == "":
			return nil, fmt.Errorf("chatdata[%d] (seq %d): %w", i, cd.Seq, errNoCiphertext)
		case cd.PublicKeyVer < 0:
			return nil, fmt.Errorf("chatdata[%d] (seq %d): negative publickey_ver", i, cd.Seq)
		}
		cd.Raw = raw
		out = append(out, cd)
	}
	return out, nil
}

var errNoCiphertext = errors.New("encrypt_random_key or encrypt_chat_msg missing")
