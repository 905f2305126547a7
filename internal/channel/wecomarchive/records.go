package wecomarchive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

// System record msgTypes.
const (
	MsgTypeGap           = "archive_gap"
	MsgTypeCheckpoint    = "capture_checkpoint"
	MsgTypeUndecryptable = "undecryptable"
)

// vigilParticipant is the sender of records the connector writes itself.
var vigilParticipant = capture.Participant{ID: "vigil-connector", IDType: "system", Affiliation: capture.AffiliationSystem}

func (c *Channel) systemRecord(nativeID, msgType, text string, cursor uint64, now time.Time) *capture.Record {
	return &capture.Record{
		Channel:    ChannelName,
		Tenant:     c.corpID,
		Account:    c.corpID,
		NativeID:   nativeID,
		Kind:       capture.KindSystem,
		MsgType:    msgType,
		NativeType: msgType,
		Sender:     vigilParticipant,
		Text:       text,
		SentAt:     now,
		Provenance: capture.Provenance{Cursor: strconv.FormatUint(cursor, 10)},
	}
}

// seqGapRecord says that seqs from..to never arrived.
func (c *Channel) seqGapRecord(from, to uint64, now time.Time) *capture.Record {
	n := to - from + 1
	r := c.systemRecord(fmt.Sprintf("archive_gap:seq:%d-%d", from, to), MsgTypeGap,
		fmt.Sprintf("archive seq %d to %d (%d messages) were not returned by GetChatData; their content is not captured", from, to, n),
		from-1, now)
	return r
}

// expiredGapRecord says that data after cursor expired before it was
// pulled (SDK error 10010); the end of the hole shows in the next seqs.
func (c *Channel) expiredGapRecord(cursor uint64, now time.Time) *capture.Record {
	return c.systemRecord(fmt.Sprintf("archive_gap:expired:%d", cursor), MsgTypeGap,
		fmt.Sprintf("GetChatData answered 10010 (data expired) after seq %d: archive data older than WeCom's 5-day window was lost before it was pulled", cursor),
		cursor, now)
}

// checkpointRecord is evidence of continuous coverage: the archive was
// pulled and caught up through cursor at now.
func (c *Channel) checkpointRecord(cursor uint64, now time.Time) *capture.Record {
	return c.systemRecord(fmt.Sprintf("capture_checkpoint:%d:%d", cursor, now.Unix()), MsgTypeCheckpoint,
		fmt.Sprintf("archive captured and caught up through seq %d at %s", cursor, now.UTC().Format(time.RFC3339)),
		cursor, now)
}

// undecryptableRecord keeps a message that could not be decrypted: its
// msgid and the hash of the chatdata element stand in for its content.
func (c *Channel) undecryptableRecord(cd ChatData, reason string, now time.Time) *capture.Record {
	sum := sha256.Sum256(cd.Raw)
	seq := cd.Seq
	r := c.systemRecord(truncateID(cd.MsgID), MsgTypeUndecryptable,
		"archive message could not be decrypted: "+reason, cd.Seq, now)
	r.NativeSeq = &seq
	r.Raw = capture.RawRef{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(cd.Raw)), ContentType: "application/json", Envelope: Envelope}
	r.Provenance.KeyVersion = strconv.Itoa(cd.PublicKeyVer)
	return r
}

// consentStates maps check_single_agree's agree_status to capture.v1.
var consentStates = map[string]string{
	"Agree":         capture.ConsentAgree,
	"Disagree":      capture.ConsentDisagree,
	"Default_Agree": capture.ConsentDefaultAgree,
}

// agreeCheckRecord records what check_single_agree (room "") or
// check_room_agree said about an external contact's consent; nil for an
// answer it cannot read.
func (c *Channel) agreeCheckRecord(a agreeInfo, room string, cursor uint64, now time.Time) *capture.Record {
	state, ok := consentStates[a.AgreeStatus]
	if !ok || a.ExternalID == "" || (a.UserID == "" && room == "") {
		return nil
	}
	at := now
	if a.StatusChangeTime > 0 {
		at = time.Unix(a.StatusChangeTime, 0).UTC()
	}
	r := &capture.Record{
		Channel:    ChannelName,
		Tenant:     c.corpID,
		Account:    c.corpID,
		NativeID:   fmt.Sprintf("agree_check:%s:%s:%d:%s", a.UserID, a.ExternalID, a.StatusChangeTime, a.AgreeStatus),
		Kind:       capture.KindConsent,
		MsgType:    "consent",
		NativeType: "check_single_agree",
		Sender:     participant(a.ExternalID),
		Consent:    &capture.Consent{SubjectID: a.ExternalID, State: state, At: at},
		SentAt:     at,
		Provenance: capture.Provenance{Cursor: strconv.FormatUint(cursor, 10)},
	}
	if room != "" {
		r.NativeID = fmt.Sprintf("room_agree_check:%s:%s:%d:%s", room, a.ExternalID, a.StatusChangeTime, a.AgreeStatus)
		r.NativeType = "check_room_agree"
		r.Conversation = conversation(&Message{RoomID: room})
		return r
	}
	r.Conversation = conversation(&Message{From: a.UserID, ToList: []string{a.ExternalID}})
	r.Recipients = []capture.Participant{participant(a.UserID)}
	return r
}
