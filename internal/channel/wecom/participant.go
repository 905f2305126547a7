package wecom

import (
	"strings"

	"github.com/vigil-operator/vigil/internal/capture"
)

// Id types recorded in capture.Participant.IDType.
const (
	idTypeUserID         = "userid"
	idTypeExternalUserID = "external_userid"
	idTypeOpenKfID       = "open_kfid"
	idTypeAgentID        = "agentid"
	idTypeSystem         = "system"
)

// Participant classifies a WeCom id by the vendor's own signal: external
// contacts' ids start with wm or wo, robots' with wb, and "sys" is WeCom
// itself (change_external_contact and similar events). Anything else is a
// member of the corp (its userid). The callback and archive channels share
// it, so a person is classified alike on both.
func Participant(id string) capture.Participant {
	switch {
	case id == "":
		return capture.Participant{Affiliation: capture.AffiliationUnknown}
	case id == "sys":
		return capture.Participant{ID: id, IDType: idTypeSystem, Affiliation: capture.AffiliationSystem}
	case strings.HasPrefix(id, "wm") || strings.HasPrefix(id, "wo"):
		return capture.Participant{ID: id, IDType: idTypeExternalUserID, Affiliation: capture.AffiliationExternal}
	case strings.HasPrefix(id, "wb"):
		return capture.Participant{ID: id, IDType: idTypeExternalUserID, Affiliation: capture.AffiliationBot}
	}
	return capture.Participant{ID: id, IDType: idTypeUserID, Affiliation: capture.AffiliationInternal}
}

// directionFrom is the direction of a message from sender into the corp:
// external senders are inbound, members are internal.
func directionFrom(sender capture.Participant) capture.Direction {
	if sender.Affiliation == capture.AffiliationExternal {
		return capture.DirectionInbound
	}
	if sender.Affiliation == capture.AffiliationInternal {
		return capture.DirectionInternal
	}
	return ""
}
