package connectorconfig

import v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"

// requiredCredentialKeys lists, per channel, the keys its credentials Secret
// must hold (docs/channels/<channel>.md documents each).
var requiredCredentialKeys = map[v1alpha1.Channel][]string{
	v1alpha1.ChannelWebhook:   {"hmacSecret"},
	v1alpha1.ChannelSimulator: nil,
}

// RequiredCredentialKeys returns the Secret keys a channel needs; nil when it
// needs no credentials.
func RequiredCredentialKeys(ch v1alpha1.Channel) []string {
	return requiredCredentialKeys[ch]
}

// NeedsCredentials reports whether a channel reads a credentials Secret.
func NeedsCredentials(ch v1alpha1.Channel) bool {
	return len(requiredCredentialKeys[ch]) > 0
}

// ReceivesWebhooks reports whether the channel's connector takes inbound HTTP
// from the channel (and so needs its Service reachable from an ingress).
func ReceivesWebhooks(ch v1alpha1.Channel) bool {
	return ch == v1alpha1.ChannelWebhook
}
