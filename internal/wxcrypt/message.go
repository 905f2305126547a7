package wxcrypt

// VerifyURL answers WeCom's URL verification (GET with msg_signature,
// timestamp, nonce and echostr already URL-decoded): it checks the signature,
// decrypts echostr and returns the plaintext to write back as the body.
func (c *Crypter) VerifyURL(msgSignature, timestamp, nonce, echostr string) ([]byte, error) {
	return c.DecryptMessage(msgSignature, timestamp, nonce, echostr)
}

// DecryptMessage checks msg_signature over the ciphertext exactly as
// received, then decrypts it.
func (c *Crypter) DecryptMessage(msgSignature, timestamp, nonce, encrypted string) ([]byte, error) {
	if err := VerifySignature(msgSignature, c.token, timestamp, nonce, encrypted); err != nil {
		return nil, err
	}
	msg, _, err := c.Decrypt(encrypted)
	return msg, err
}

// EncryptMessage seals a message (a passive reply, or a test's push) and
// signs it: it returns the ciphertext and its msg_signature.
func (c *Crypter) EncryptMessage(msg []byte, timestamp, nonce string) (encrypted, msgSignature string, err error) {
	encrypted, err = c.Encrypt(msg)
	if err != nil {
		return "", "", err
	}
	return encrypted, Signature(c.token, timestamp, nonce, encrypted), nil
}
