// Package wxcrypt is the WeChat family's message signature and AES envelope
// (企业微信 callbacks, Official Account and Mini Program pushes in compatible
// and secure modes), written from the vendor's specification "加解密方案说明"
// and checked against every official test vector.
//
// The scheme: msg_signature = hex(SHA1(sorted(token, timestamp, nonce,
// ciphertext) joined)); ciphertext = base64(AES-256-CBC(key, iv=key[:16],
// PKCS#7 to 32 bytes, random(16) ‖ len(4, big-endian) ‖ msg ‖ receiveID)),
// with key = base64(EncodingAESKey + "=").
package wxcrypt
