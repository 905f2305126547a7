// Package wecomarchive is the WeCom chat archive channel (会话内容存档): it
// pulls a corporation's archived chats through the vendor's Finance SDK
// (GetChatData, DecryptData, GetMediaData), unwraps each message's random key
// with the enterprise's RSA key for its publickey_ver, maps the decrypted
// JSON of every msgtype to capture.v1, and keeps a durable seq cursor so that
// nothing is lost across restarts. The SDK is reached either natively (cgo,
// build tag wecomsdk) or through an HTTP bridge (see bridge.go).
package wecomarchive
