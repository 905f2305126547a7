package naming

import (
	"crypto/sha256"
	"encoding/hex"
)

// MaxConnectorName keeps the StatefulSet's pods' controller-revision-hash label
// (name + "-" + 10 characters) within the 63-character label limit.
const MaxConnectorName = 52

// connectorName is the name of every object rendered for an account: its
// ServiceAccount, StatefulSet, Service, ConfigMap and NetworkPolicy. Long
// account names are truncated and suffixed with a hash so they stay unique.
// The archive maps a connector's ServiceAccount back to its account by this
// name, so it must not change between releases.
func ConnectorName(account string) string {
	name := account + "-connector"
	if len(name) <= MaxConnectorName {
		return name
	}
	sum := sha256.Sum256([]byte(account))
	suffix := "-" + hex.EncodeToString(sum[:])[:8] + "-connector"
	return trimDashes(account[:MaxConnectorName-len(suffix)]) + suffix
}

func trimDashes(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '-' || s[len(s)-1] == '.') {
		s = s[:len(s)-1]
	}
	return s
}
