package wechatoa

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// Query parameters WeChat adds to the push URL.
const (
	ParamSignature    = "signature"
	ParamTimestamp    = "timestamp"
	ParamNonce        = "nonce"
	ParamEchostr      = "echostr"
	ParamOpenID       = "openid"
	ParamEncryptType  = "encrypt_type"
	ParamMsgSignature = "msg_signature"

	encryptTypeAES = "aes"
)

// Provenance signature schemes.
const (
	SigSchemePlain     = "wechat-signature-sha1"
	SigSchemeEncrypted = "wechat-msg-signature-sha1"
)

// authenticated is a push whose signatures, freshness and (when encrypted)
// decryption succeeded.
type authenticated struct {
	// plaintext is the message: the decrypted content of Encrypt, or the
	// body in plaintext mode.
	plaintext []byte
	encrypted bool
	// envelope is the outer body of an encrypted push; outerIsCopy says it
	// also carries the plaintext (compatible form), for the agreement check.
	envelope    wxcrypt.Envelope
	outerIsCopy bool
	// replayKey is reserved; release it if the push is not captured.
	replayKey [sha256.Size]byte
}

func errModeMismatch(configured Mode, got string) *inbound.Rejection {
	return inbound.Unauthorized(ReasonModeMismatch,
		fmt.Errorf("the account is configured for %s mode but this push is %s; change spec.wechatOfficialAccount.mode only together with the admin console", configured, got))
}

// checkSignature verifies the plain `signature` that every request carries.
func (c *Channel) checkSignature(q url.Values) *inbound.Rejection {
	sig := q.Get(ParamSignature)
	if sig == "" {
		return inbound.Unauthorized(inbound.ReasonMissingSignature, errors.New("signature is missing"))
	}
	if wxcrypt.VerifySignature(sig, c.token, q.Get(ParamTimestamp), q.Get(ParamNonce)) != nil {
		return inbound.Unauthorized(inbound.ReasonBadSignature, errors.New("signature does not verify"))
	}
	return nil
}

// authenticate checks a push: the plain signature, the timestamp window,
// that the push is in the configured mode, msg_signature and decryption for
// encrypted pushes, and that the request is not a replay.
func (c *Channel) authenticate(q url.Values, body []byte, now time.Time) (*authenticated, *inbound.Rejection) {
	if rej := c.checkSignature(q); rej != nil {
		return nil, rej
	}
	ts, err := inbound.ParseUnixSeconds(q.Get(ParamTimestamp))
	if err != nil {
		return nil, inbound.Malformed("%v", err)
	}
	// After the signature, so only the holder of the token learns the clock.
	if rej := inbound.CheckFresh(ts, now, c.window); rej != nil {
		return nil, rej
	}
	a := &authenticated{}
	switch et := q.Get(ParamEncryptType); et {
	case encryptTypeAES:
		a.encrypted = true
	case "", "raw":
	default:
		return nil, inbound.Malformed("encrypt_type %q is not aes or raw", truncate(et))
	}
	switch {
	case c.mode == ModePlaintext && a.encrypted:
		return nil, errModeMismatch(c.mode, "encrypted")
	case c.mode != ModePlaintext && !a.encrypted:
		return nil, errModeMismatch(c.mode, "plaintext")
	}
	if a.encrypted {
		if rej := c.checkEnvelope(q, body, a); rej != nil {
			return nil, rej
		}
	} else {
		a.plaintext = body
	}
	a.replayKey = inbound.Key(q.Get(ParamTimestamp), q.Get(ParamNonce), q.Get(ParamSignature))
	if rej := c.replay.ReserveOrRefuse(a.replayKey, now); rej != nil {
		return nil, rej
	}
	if a.encrypted {
		msg, _, err := c.crypter.Decrypt(a.envelope.Encrypt)
		if err != nil {
			c.replay.Release(a.replayKey)
			if errors.Is(err, wxcrypt.ErrValidateReceiver) {
				return nil, inbound.Unauthorized(inbound.ReasonWrongReceiver, errors.New("the message is addressed to another appid"))
			}
			return nil, inbound.Refuse(http.StatusBadRequest, inbound.ReasonDecrypt, fmt.Errorf("decrypting Encrypt: %w", err))
		}
		a.plaintext = msg
	}
	return a, nil
}

// checkEnvelope parses an encrypted body, refuses a compatible-mode body on
// a secure account, and verifies msg_signature over the ciphertext.
func (c *Channel) checkEnvelope(q url.Values, body []byte, a *authenticated) *inbound.Rejection {
	msgSig := q.Get(ParamMsgSignature)
	if msgSig == "" {
		return inbound.Unauthorized(inbound.ReasonMissingSignature, errors.New("msg_signature is missing"))
	}
	fields, err := topLevelFields(body)
	if err != nil {
		return inbound.Malformed("%v", err)
	}
	a.outerIsCopy = !isSecureForm(fields)
	if c.mode == ModeSecure && a.outerIsCopy {
		// A compatible-mode body: the plaintext travels beside the ciphertext.
		return errModeMismatch(c.mode, "compatible (the body carries a plaintext copy)")
	}
	env, err := wxcrypt.ParseEnvelope(body)
	if err != nil {
		return inbound.Malformed("envelope: %v", err)
	}
	if wxcrypt.VerifySignature(msgSig, c.token, q.Get(ParamTimestamp), q.Get(ParamNonce), env.Encrypt) != nil {
		return inbound.Unauthorized(inbound.ReasonBadSignature, errors.New("msg_signature does not verify"))
	}
	a.envelope = env
	return nil
}
