package wecomarchive

import (
	"errors"
	"testing"
)

func TestParseChatData(t *testing.T) {
	body := []byte(`{"errcode":0,"errmsg":"ok","chatdata":[{"seq":196,"msgid":"CAQQ2fbb4QUY0On2rYSAgAMgip/yzgs=","publickey_ver":3,"encrypt_random_key":"a2V5","encrypt_chat_msg":"bXNn"}]}`)
	cds, err := ParseChatData(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(cds) != 1 || cds[0].Seq != 196 || cds[0].PublicKeyVer != 3 || cds[0].MsgID != "CAQQ2fbb4QUY0On2rYSAgAMgip/yzgs=" {
		t.Fatalf("got %+v", cds)
	}
	if string(cds[0].Raw) != `{"seq":196,"msgid":"CAQQ2fbb4QUY0On2rYSAgAMgip/yzgs=","publickey_ver":3,"encrypt_random_key":"a2V5","encrypt_chat_msg":"bXNn"}` {
		t.Fatalf("raw element not kept verbatim: %s", cds[0].Raw)
	}
	empty, err := ParseChatData([]byte(`{"errcode":0,"errmsg":"ok","chatdata":[]}`))
	if err != nil || len(empty) != 0 {
		t.Fatalf("empty: %v %v", empty, err)
	}
}

func TestParseChatDataErrors(t *testing.T) {
	var cde *ChatDataError
	if _, err := ParseChatData([]byte(`{"errcode":301042,"errmsg":"ip not allowed"}`)); !errors.As(err, &cde) || cde.Code != 301042 {
		t.Fatalf("errcode: %v", err)
	}
	for name, body := range map[string]string{
		"not json":      `<xml/>`,
		"no seq":        `{"errcode":0,"chatdata":[{"msgid":"m","encrypt_random_key":"a","encrypt_chat_msg":"b"}]}`,
		"no msgid":      `{"errcode":0,"chatdata":[{"seq":1,"encrypt_random_key":"a","encrypt_chat_msg":"b"}]}`,
		"no ciphertext": `{"errcode":0,"chatdata":[{"seq":1,"msgid":"m","encrypt_chat_msg":"b"}]}`,
		"bad element":   `{"errcode":0,"chatdata":[1]}`,
		"negative ver":  `{"errcode":0,"chatdata":[{"seq":1,"msgid":"m","publickey_ver":-1,"encrypt_random_key":"a","encrypt_chat_msg":"b"}]}`,
	} {
		if _, err := ParseChatData([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
