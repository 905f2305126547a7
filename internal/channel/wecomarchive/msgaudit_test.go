package wecomarchive_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi/qyapitest"
	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

// TestAgreementChecksBecomeConsentRecords: the consent an external contact
// gave (or refused) is asked once per pair through check_single_agree and
// archived as a consent record beside the conversation it covers.
func roomMsg(id, from, room string, at int64, content string) []byte {
	b, _ := json.Marshal(map[string]any{"msgid": id, "action": "send", "from": from, "tolist": []string{"alice"}, "roomid": room,
		"msgtime": at, "msgtype": "text", "text": map[string]string{"content": content}})
	return b
}

func TestAgreementChecksBecomeConsentRecords(t *testing.T) {
	fake := newFake(t)
	api := qyapitest.Start(t, testCorp, "archive-secret")
	api.SetSingleAgree(qyapitest.AgreeInfo{UserID: "alice", ExternalOpenID: "wmExternal01", AgreeStatus: "Agree", StatusChangeTime: 1700000000})
	api.SetSingleAgree(qyapitest.AgreeInfo{UserID: "bob", ExternalOpenID: "woRefuser02", AgreeStatus: "Disagree", StatusChangeTime: 1700000500})
	api.SetRoomAgree("wrCustomerRoom01", qyapitest.AgreeInfo{ExternalOpenID: "wmRoomGuest03", AgreeStatus: "Default_Agree", StatusChangeTime: 1700000600})
	for _, m := range [][]byte{
		textMsg("m1", "alice", "wmExternal01", 1700000001000, "报价如下"),
		textMsg("m2", "wmExternal01", "alice", 1700000002000, "收到"), // the same pair: asked once
		textMsg("m3", "bob", "woRefuser02", 1700000003000, "hello"),
		textMsg("m4", "alice", "bob", 1700000004000, "internal only"), // no external contact
		roomMsg("m6", "wmRoomGuest03", "wrCustomerRoom01", 1700000006000, "群里问一下"),
		roomMsg("m7", "alice", "wrInternalRoom02", 1700000007000, "internal room"), // no external member
	} {
		if _, err := fake.AddMessage(m); err != nil {
			t.Fatal(err)
		}
	}
	p := params(t, t.TempDir(), 1)
	p.Settings = map[string]string{cc.SettingAPIBaseURL: api.URL}
	opts := testOptions(fake)
	opts.PermitListEvery = time.Hour
	ch, err := wecomarchive.NewWithOptions(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	sink := &connectortest.Sink{}
	if err := wecomarchive.PullAll(ch, context.Background(), sink); err != nil {
		t.Fatal(err)
	}
	consents := map[string]*capture.Record{}
	for _, r := range sink.Records() {
		if r.NativeType == "check_single_agree" || r.NativeType == "check_room_agree" {
			consents[r.Consent.SubjectID] = r
		}
	}
	if len(consents) != 3 {
		t.Fatalf("%d consent records, want one per external pair and one for the customer room", len(consents))
	}
	if room := consents["wmRoomGuest03"]; room == nil || room.NativeType != "check_room_agree" ||
		room.Conversation.ID != "wrCustomerRoom01" || room.Consent.State != capture.ConsentDefaultAgree {
		t.Fatalf("room consent record %+v", room)
	}
	if n := api.Calls("/cgi-bin/msgaudit/check_room_agree"); n != 1 {
		t.Fatalf("check_room_agree called %d times; only the room with an external member is asked", n)
	}
	agree, refuse := consents["wmExternal01"], consents["woRefuser02"]
	if agree == nil || agree.Kind != capture.KindConsent || agree.Consent.State != capture.ConsentAgree ||
		!agree.Consent.At.Equal(time.Unix(1700000000, 0)) || agree.Recipients[0].ID != "alice" {
		t.Fatalf("agree record %+v", agree)
	}
	if refuse == nil || refuse.Consent.State != capture.ConsentDisagree {
		t.Fatalf("disagree record %+v", refuse)
	}
	if n := api.Calls("/cgi-bin/msgaudit/check_single_agree"); n != 1 {
		t.Fatalf("check_single_agree called %d times; one call covers the batch", n)
	}

	// Later traffic of the same pairs is not asked about again.
	if _, err := fake.AddMessage(textMsg("m5", "alice", "wmExternal01", 1700000005000, "明天见")); err != nil {
		t.Fatal(err)
	}
	if err := wecomarchive.PullAll(ch, context.Background(), sink); err != nil {
		t.Fatal(err)
	}
	if n := api.Calls("/cgi-bin/msgaudit/check_single_agree"); n != 1 {
		t.Fatalf("a checked pair was asked again (%d calls)", n)
	}
}
