package wxcrypt

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
)

const (
	setAToken  = "QDG6eK"
	setAKey    = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	setAReceiv = "wx5823bf96d3bd56c7"
	setBToken  = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
	setBKey    = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
	setBReceiv = "ww1436e0e65a779aee"
)

func mustNew(t testing.TB, token, key, receiveID string) *Crypter {
	t.Helper()
	c, err := New(token, key, receiveID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDecodeKeyMatchesOfficialAESKeys(t *testing.T) {
	for key, want := range map[string]string{
		setAKey: "8d69989bbaabe67328014c194631ad0719b3dca035b64023df292447aab60760",
		setBKey: "eaa91d32babaf274ca76ece72583b5037ed6da8120a64314be4b6d453a2a854b",
		"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG": "69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051",
	} {
		got, err := DecodeKey(key)
		if err != nil || hex.EncodeToString(got) != want {
			t.Errorf("DecodeKey(%s) = %x, %v; want %s", key, got, err, want)
		}
	}
	for _, bad := range []string{setAKey[:42], setAKey + "A", strings.Replace(setAKey, "j", "+", 1), ""} {
		if _, err := DecodeKey(bad); !errors.Is(err, ErrIllegalAESKey) {
			t.Errorf("DecodeKey(%q) = %v, want -40004", bad, err)
		}
	}
}

// TestOfficialWeComVectors runs URL verification and message decryption
// with the vendor's vector sets A and B.
func TestOfficialWeComVectors(t *testing.T) {
	a := mustNew(t, setAToken, setAKey, setAReceiv)
	b := mustNew(t, setBToken, setBKey, setBReceiv)
	wireEcho, _ := url.QueryUnescape("P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D")
	envA, err := ParseEnvelope([]byte(vecABody))
	if err != nil {
		t.Fatal(err)
	}
	envB, err := ParseEnvelope([]byte(vecBBody))
	if err != nil {
		t.Fatal(err)
	}
	envBJSON, err := ParseEnvelope([]byte(vecBJSONBody))
	if err != nil {
		t.Fatal(err)
	}
	if envA.AgentID != "218" || envBJSON.AgentID != "218" || envBJSON.Format != FormatJSON || envB.Format != FormatXML {
		t.Fatalf("envelopes parsed wrong: %+v %+v", envA, envBJSON)
	}
	bJSON := mustNew(t, setBToken, setBKey, setBReceiv)
	tests := []struct {
		name                  string
		c                     *Crypter
		sig, ts, nonce, input string
		want                  string
	}{
		{"A VerifyURL", a, "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", wireEcho, "1616140317555161061"},
		{"A DecryptMsg", a, "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", envA.Encrypt, vecAPlain},
		{"B VerifyURL", b, "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683",
			"fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==", "1288432023552776189"},
		{"B DecryptMsg XML", b, "0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914", envB.Encrypt, vecBPlain},
		{"B DecryptMsg JSON", bJSON, "e3647471e395139e2308c1fa963f2d648a00b90e", "1409659813", "1372623149", envBJSON.Encrypt, vecBJSONPlain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.DecryptMessage(tc.sig, tc.ts, tc.nonce, tc.input)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("plaintext:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestOfficialAccountVectors covers the Official Account / Mini Program
// worked example (Token AAAAA) and the Java WXBizMsgCryptTest vectors, which
// fix the random prefix and so test encryption byte for byte.
func TestOfficialAccountVectors(t *testing.T) {
	if got := Signature("AAAAA", "1714036504", "1514711492"); got != "f464b24fc39322e44b38aa78f5edd27bd1441696" {
		t.Errorf("GET signature = %s", got)
	}
	if err := VerifySignature("899cf89e464efb63f54ddac96b0a0a235f53aa78", "AAAAA", "1714037059", "486452656"); err != nil {
		t.Errorf("plaintext POST signature: %v", err)
	}
	if err := VerifySignature("6c5c811b55cc85e0e1b54100749188c20beb3f5d", "AAAAA", "1714112445", "415670741"); err != nil {
		t.Errorf("secure POST plain signature: %v", err)
	}
	oa := mustNew(t, "AAAAA", strings.Repeat("A", 43), "wxba5fad812f8e6fb9")
	msg, err := oa.DecryptMessage("046e02f8204d34f8ba5fa3b1db94908f3df2e9b3", "1714112445", "415670741", vecOEnc)
	if err != nil || string(msg) != vecOMsg {
		t.Fatalf("secure-mode decrypt = %q, %v", msg, err)
	}
	oa.Rand = strings.NewReader("707722b803182950")
	enc, sig, err := oa.EncryptMessage([]byte(`{"demo_resp":"good luck"}`), "1713424427", "415670741")
	if err != nil || enc != vecOReply || sig != "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1" {
		t.Fatalf("reply encrypt = %s %s %v", enc, sig, err)
	}

	java := mustNew(t, "pamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxb11529c136998cb6")
	java.Rand = strings.NewReader("aaaabbbbccccdddd")
	enc, sig, err = java.EncryptMessage([]byte("我是中文abcd123"), "1409304348", "xxxxxx")
	if err != nil || enc != vecJEnc1 || sig != "82c962d39941aa48552f90ef55aa323dc620cc10" {
		t.Fatalf("java encrypt 1 = %s %s %v", enc, sig, err)
	}
	java.Rand = strings.NewReader("aaaabbbbccccdddd")
	enc, err = java.Encrypt([]byte(vecJReply))
	if err != nil || enc != vecJEnc2 {
		t.Fatalf("java encrypt 2 = %s %v", enc, err)
	}
	back, err := java.DecryptMessage(Signature("pamtest", "1", "n", enc), "1", "n", enc)
	if err != nil || string(back) != vecJReply {
		t.Fatalf("round trip = %q %v", back, err)
	}
}

func TestNegativeCases(t *testing.T) {
	a := mustNew(t, setAToken, setAKey, setAReceiv)
	envA, _ := ParseEnvelope([]byte(vecABody))
	const sig, ts, nonce = "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149"
	// A well-padded plaintext whose length field claims more than is there.
	overLong := encryptRaw(t, a, append([]byte("0123456789abcdef\x7f\xff\xff\xffhi"), setAReceiv...))
	tests := []struct {
		name string
		run  func() error
		want *Error
	}{
		{"changed signature", func() error {
			_, err := a.DecryptMessage(strings.Replace(sig, "4", "5", 1), ts, nonce, envA.Encrypt)
			return err
		}, ErrValidateSignature},
		{"signature over other nonce", func() error { _, err := a.DecryptMessage(sig, ts, "1", envA.Encrypt); return err }, ErrValidateSignature},
		{"wrong receive id", func() error {
			_, err := mustNew(t, setAToken, setAKey, "wwOther").DecryptMessage(sig, ts, nonce, envA.Encrypt)
			return err
		}, ErrValidateReceiver},
		{"42-char key", func() error { _, err := New(setAToken, setAKey[:42], ""); return err }, ErrIllegalAESKey},
		{"truncated ciphertext", func() error {
			ct, _ := base64.StdEncoding.DecodeString(envA.Encrypt)
			_, _, err := a.Decrypt(base64.StdEncoding.EncodeToString(ct[:len(ct)-5]))
			return err
		}, ErrDecryptAES},
		{"not base64", func() error { _, _, err := a.Decrypt("%%%"); return err }, ErrDecodeBase64},
		{"wrong key (bad padding)", func() error {
			_, _, err := mustNew(t, setAToken, setBKey, "").Decrypt(envA.Encrypt)
			return err
		}, ErrDecryptAES},
		{"length field past the buffer", func() error { _, _, err := a.Decrypt(overLong); return err }, ErrIllegalBuffer},
		{"empty ciphertext", func() error { _, _, err := a.Decrypt(""); return err }, ErrDecryptAES},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want code %d", err, tc.want.Code)
			}
		})
	}
}

// encryptRaw encrypts a hand-built plaintext (padding added here) so tests
// can present malformed inner structure under a valid cipher.
func encryptRaw(t *testing.T, c *Crypter, raw []byte) string {
	t.Helper()
	pad := padBlock - len(raw)%padBlock
	pt := append(append([]byte(nil), raw...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, len(pt))
	cbcEncrypt(c, out, pt)
	return base64.StdEncoding.EncodeToString(out)
}

func TestEnvelopeRefusals(t *testing.T) {
	for name, body := range map[string]string{
		"empty":          "",
		"neither":        "hello",
		"xml no encrypt": "<xml><ToUserName>x</ToUserName></xml>",
		"bad xml":        "<xml><Encrypt>",
		"json no field":  `{"tousername":"x"}`,
		"bad json":       `{"encrypt":`,
	} {
		if _, err := ParseEnvelope([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ReplyXML("a]]>b", "s", "1", "n"); !errors.Is(err, ErrGenReturnXML) {
		t.Errorf("ReplyXML let a CDATA terminator through: %v", err)
	}
	x, err := ReplyXML("enc", "sig", "1409659813", "nonce")
	if err != nil || !bytes.Contains(x, []byte("<TimeStamp>1409659813</TimeStamp>")) {
		t.Errorf("ReplyXML = %s, %v", x, err)
	}
}
