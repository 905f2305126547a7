// Package wecom is the WeCom (企业微信) callback channel (CRD channel
// WeComCallback): it receives the encrypted, signed pushes WeCom sends to a
// self-built app's callback URL ("接收消息与事件", developer.work.weixin.qq.com
// document/path/90238, crypto per document/path/91144), captures messages
// sent to the app and contact events as capture.v1 records, and, when a
// customer-service secret is configured, pulls 微信客服 (WeChat Customer
// Service) conversations through kf/sync_msg (document/path/94670) whenever a
// kf_msg_or_event callback arrives.
//
// The callback handler is exported (NewCallbackHandler) so that the archive
// channel can mount the same verification and decryption with its own hook
// for msgaudit_notify. docs/channels/wecom-callback.md is the operator guide.
package wecom
