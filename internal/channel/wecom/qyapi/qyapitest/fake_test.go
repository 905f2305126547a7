package qyapitest_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi"
	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi/qyapitest"
)

func TestMsgAuditAPIs(t *testing.T) {
	f := qyapitest.Start(t, "wwcorp", "s3cret")
	c := qyapi.New(f.URL, "wwcorp", "s3cret", nil)
	ctx := context.Background()

	f.SetPermitUsers(1, "alice", "bob")
	f.SetPermitUsers(3, "bob", "carol")
	var permit struct {
		IDs []string `json:"ids"`
	}
	if err := c.Post(ctx, "/cgi-bin/msgaudit/get_permit_user_list", map[string]int{"type": 3}, &permit); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(permit.IDs, []string{"bob", "carol"}) {
		t.Fatalf("type 3 ids = %v", permit.IDs)
	}
	if err := c.Post(ctx, "/cgi-bin/msgaudit/get_permit_user_list", map[string]any{}, &permit); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(permit.IDs, []string{"alice", "bob", "carol"}) {
		t.Fatalf("all ids = %v", permit.IDs)
	}

	f.SetSingleAgree(qyapitest.AgreeInfo{StatusChangeTime: 1603875826, UserID: "kenshin", ExternalOpenID: "wmGAge", AgreeStatus: "Agree"})
	var agree struct {
		AgreeInfo []qyapitest.AgreeInfo `json:"agreeinfo"`
	}
	req := json.RawMessage(`{"info":[{"userid":"kenshin","exteranalopenid":"wmGAge"},{"userid":"kenshin","exteranalopenid":"wmNone"}]}`)
	if err := c.Post(ctx, "/cgi-bin/msgaudit/check_single_agree", req, &agree); err != nil {
		t.Fatal(err)
	}
	if len(agree.AgreeInfo) != 1 || agree.AgreeInfo[0].AgreeStatus != "Agree" || agree.AgreeInfo[0].ExternalOpenID != "wmGAge" {
		t.Fatalf("single agree = %+v", agree.AgreeInfo)
	}

	f.SetRoomAgree("wrRoom", qyapitest.AgreeInfo{StatusChangeTime: 1, ExternalOpenID: "wmX", AgreeStatus: "Disagree"})
	if err := c.Post(ctx, "/cgi-bin/msgaudit/check_room_agree", map[string]string{"roomid": "wrRoom"}, &agree); err != nil {
		t.Fatal(err)
	}
	if len(agree.AgreeInfo) != 1 || agree.AgreeInfo[0].AgreeStatus != "Disagree" {
		t.Fatalf("room agree = %+v", agree.AgreeInfo)
	}

	f.SetGroupChat("wrRoom", qyapitest.GroupChat{RoomName: "Desk", Creator: "alice", RoomCreateTime: 1592361604, Notice: "n",
		Members: []qyapitest.GroupMember{{MemberID: "alice", JoinTime: 1592361605}}})
	var g qyapitest.GroupChat
	if err := c.Post(ctx, "/cgi-bin/msgaudit/groupchat/get", map[string]string{"roomid": "wrRoom"}, &g); err != nil {
		t.Fatal(err)
	}
	if g.RoomName != "Desk" || len(g.Members) != 1 || g.Members[0].MemberID != "alice" {
		t.Fatalf("groupchat = %+v", g)
	}
	var ae *qyapi.APIError
	if err := c.Post(ctx, "/cgi-bin/msgaudit/groupchat/get", map[string]string{"roomid": "wrOther"}, &g); !errors.As(err, &ae) || ae.Code != qyapitest.CodeInvalidParameter {
		t.Fatalf("unknown room err = %v", err)
	}
	if err := c.Post(ctx, "/cgi-bin/msgaudit/check_room_agree", "not an object", nil); !errors.As(err, &ae) || ae.Code != qyapitest.CodeBadJSON {
		t.Fatalf("bad json err = %v", err)
	}
}

func TestHandleExtends(t *testing.T) {
	f := qyapitest.Start(t, "wwcorp", "s3cret")
	var got []byte
	f.Handle("/cgi-bin/kf/sync_msg", func(body []byte) (any, error) {
		got = body
		return map[string]any{"next_cursor": "c2", "has_more": 0, "msg_list": []any{}}, nil
	})
	f.Handle("/cgi-bin/kf/fail", func([]byte) (any, error) {
		return nil, &qyapi.APIError{Code: 95007, Msg: "invalid msg token"}
	})
	c := qyapi.New(f.URL, "wwcorp", "s3cret", nil)
	var resp struct {
		ErrCode    int    `json:"errcode"`
		NextCursor string `json:"next_cursor"`
	}
	if err := c.Post(context.Background(), "/cgi-bin/kf/sync_msg", map[string]string{"cursor": "c1"}, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.NextCursor != "c2" || string(got) != `{"cursor":"c1"}` {
		t.Fatalf("resp %+v body %s", resp, got)
	}
	var ae *qyapi.APIError
	if err := c.Post(context.Background(), "/cgi-bin/kf/fail", struct{}{}, nil); !errors.As(err, &ae) || ae.Code != 95007 {
		t.Fatalf("err = %v", err)
	}
	if err := c.Post(context.Background(), "/cgi-bin/unknown", struct{}{}, nil); err == nil {
		t.Fatal("unknown path must fail")
	}
}

func TestTokenChecks(t *testing.T) {
	f := qyapitest.Start(t, "wwcorp", "s3cret")
	var ae *qyapi.APIError
	bad := qyapi.New(f.URL, "wwother", "s3cret", nil)
	if err := bad.Post(context.Background(), "/cgi-bin/msgaudit/get_permit_user_list", struct{}{}, nil); !errors.As(err, &ae) || ae.Code != qyapitest.CodeInvalidCorpID {
		t.Fatalf("wrong corp err = %v", err)
	}
	if f.TokensIssued() != 0 {
		t.Fatal("token issued to the wrong corp")
	}
}
