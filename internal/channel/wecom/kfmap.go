package wecom

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

// KfChannelName is capture.Record.Channel of WeChat Customer Service records.
const KfChannelName = "wecom_kf"

// kf origins (kf/sync_msg, document/path/94670).
const (
	kfOriginCustomer = "3"
	kfOriginSystem   = "4"
	kfOriginServicer = "5"
)

// kfMsgTypes maps kf msgtype to capture.v1's normalised msgType.
var kfMsgTypes = map[string]string{
	"text": "text", "image": "image", "voice": "audio", "video": "video", "file": "file",
	"location": "location", "link": "link", "business_card": "contact_card",
	"miniprogram": "mini_program", "msgmenu": "text", "channels_shop_product": "link",
	"channels_shop_order": "link", "merged_msg": "chat_record", "channels": "link",
	"meeting": "meeting", "schedule": "calendar", "note": "doc",
}

// kfHeader is what every msg_list element carries.
type kfHeader struct {
	MsgID          scalar `json:"msgid"`
	OpenKfID       scalar `json:"open_kfid"`
	ExternalUserID scalar `json:"external_userid"`
	SendTime       scalar `json:"send_time"`
	Origin         scalar `json:"origin"`
	ServicerUserID scalar `json:"servicer_userid"`
	MsgType        scalar `json:"msgtype"`
}

type kfMedia struct {
	MediaID scalar `json:"media_id"`
}

// kfBody holds the per-type objects; leaves are scalars so that a string
// sent as a number (or the reverse) never loses a message.
type kfBody struct {
	Text *struct {
		Content scalar `json:"content"`
		MenuID  scalar `json:"menu_id"`
	} `json:"text"`
	Image    *kfMedia `json:"image"`
	Voice    *kfMedia `json:"voice"`
	Video    *kfMedia `json:"video"`
	File     *kfMedia `json:"file"`
	Location *struct {
		Latitude  scalar `json:"latitude"`
		Longitude scalar `json:"longitude"`
		Name      scalar `json:"name"`
		Address   scalar `json:"address"`
	} `json:"location"`
	Link *struct {
		Title  scalar `json:"title"`
		Desc   scalar `json:"desc"`
		URL    scalar `json:"url"`
		PicURL scalar `json:"pic_url"`
	} `json:"link"`
	BusinessCard *struct {
		UserID scalar `json:"userid"`
	} `json:"business_card"`
	MiniProgram *struct {
		Title        scalar `json:"title"`
		AppID        scalar `json:"appid"`
		PagePath     scalar `json:"pagepath"`
		ThumbMediaID scalar `json:"thumb_media_id"`
	} `json:"miniprogram"`
	MsgMenu *struct {
		HeadContent scalar `json:"head_content"`
		List        []struct {
			Type  scalar `json:"type"`
			Click *struct {
				Content scalar `json:"content"`
			} `json:"click"`
			View *struct {
				URL     scalar `json:"url"`
				Content scalar `json:"content"`
			} `json:"view"`
			MiniProgram *struct {
				Content scalar `json:"content"`
			} `json:"miniprogram"`
			Text *struct {
				Content scalar `json:"content"`
			} `json:"text"`
		} `json:"list"`
		TailContent scalar `json:"tail_content"`
	} `json:"msgmenu"`
	ChannelsShopProduct *struct {
		ProductID    scalar `json:"product_id"`
		Title        scalar `json:"title"`
		SalesPrice   scalar `json:"sales_price"`
		ShopNickname scalar `json:"shop_nickname"`
	} `json:"channels_shop_product"`
	ChannelsShopOrder *struct {
		OrderID       scalar `json:"order_id"`
		ProductTitles scalar `json:"product_titles"`
		PriceWording  scalar `json:"price_wording"`
		State         scalar `json:"state"`
		ShopNickname  scalar `json:"shop_nickname"`
	} `json:"channels_shop_order"`
	MergedMsg *struct {
		Title scalar `json:"title"`
		Item  []struct {
			SendTime   scalar `json:"send_time"`
			MsgType    scalar `json:"msgtype"`
			SenderName scalar `json:"sender_name"`
			MsgContent scalar `json:"msg_content"`
		} `json:"item"`
	} `json:"merged_msg"`
	Channels *struct {
		SubType  scalar `json:"sub_type"`
		Nickname scalar `json:"nickname"`
		Title    scalar `json:"title"`
	} `json:"channels"`
	Meeting *struct {
		MeetingID scalar `json:"meetingid"`
	} `json:"meeting"`
	Schedule *struct {
		ScheduleID scalar `json:"scheduleid"`
	} `json:"schedule"`
	Event *kfEvent `json:"event"`
}

type kfEvent struct {
	EventType      scalar `json:"event_type"`
	OpenKfID       scalar `json:"open_kfid"`
	ExternalUserID scalar `json:"external_userid"`
	ServicerUserID scalar `json:"servicer_userid"`
	FailMsgID      scalar `json:"fail_msgid"`
	RecallMsgID    scalar `json:"recall_msgid"`
	Scene          scalar `json:"scene"`
	Status         scalar `json:"status"`
	ChangeType     scalar `json:"change_type"`
}

// kf event kinds: recalls are recall records pointing at the recalled
// message; session and servicer changes are status; entering a session is
// membership; anything else is system.
var kfEventKinds = map[string]capture.Kind{
	"user_recall_msg":        capture.KindRecall,
	"servicer_recall_msg":    capture.KindRecall,
	"enter_session":          capture.KindMembership,
	"session_status_change":  capture.KindStatus,
	"servicer_status_change": capture.KindStatus,
	"msg_send_fail":          capture.KindStatus,
}

// kfBatch is what one sync_msg page maps to.
type kfBatch struct {
	corpID     string
	openKfID   string
	cursor     string
	receivedAt time.Time
}

// kfRecord maps one msg_list element. It never fails: an element that does
// not parse is kept with msgType unknown and the hash of its bytes, so the
// cursor can move on without losing it.
func kfRecord(raw json.RawMessage, b kfBatch) *capture.Record {
	sum := sha256.Sum256(raw)
	r := &capture.Record{
		Channel:    KfChannelName,
		Tenant:     b.corpID,
		Account:    cleanID(b.openKfID),
		Raw:        capture.RawRef{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(raw)), ContentType: "application/json", Envelope: "none"},
		Provenance: capture.Provenance{Cursor: capture.Clip(b.cursor, 1024)},
	}
	var h kfHeader
	var body kfBody
	headerOK := json.Unmarshal(raw, &h) == nil
	bodyOK := headerOK && json.Unmarshal(raw, &body) == nil

	r.NativeID = string(h.MsgID)
	if r.NativeID == "" {
		r.NativeID = "sha256:" + hex.EncodeToString(sum[:])
	}
	r.NativeID = cleanID(r.NativeID)
	if h.OpenKfID != "" {
		r.Account = cleanID(string(h.OpenKfID))
	}
	r.SentAt = sentAt(h.SendTime, b.receivedAt)
	r.NativeType = capture.Clip(strings.ToValidUTF8(string(h.MsgType), ""), 128)
	external := string(h.ExternalUserID)
	if body.Event != nil && external == "" {
		external = string(body.Event.ExternalUserID)
	}
	r.Conversation = capture.Conversation{ID: cleanID(r.Account + ":" + external), Type: "customer_service"}
	kfParticipants(r, h, external)

	switch {
	case !bodyOK:
		r.Kind = capture.KindMessage
		r.MsgType = "unknown"
	case string(h.MsgType) == msgTypeEvent && body.Event != nil:
		kfMapEvent(r, body.Event)
	default:
		r.Kind = capture.KindMessage
		kfMapMessage(r, string(h.MsgType), &body)
	}
	r.SetDedupKey()
	return r
}

// kfParticipants sets sender, recipients and direction from origin.
func kfParticipants(r *capture.Record, h kfHeader, external string) {
	customer := capture.Participant{ID: external, IDType: idTypeExternalUserID, Affiliation: capture.AffiliationExternal}
	kfAccount := capture.Participant{ID: r.Account, IDType: idTypeOpenKfID, Affiliation: capture.AffiliationInternal}
	servicer := kfAccount
	if h.ServicerUserID != "" {
		servicer = capture.Participant{ID: string(h.ServicerUserID), IDType: idTypeUserID, Affiliation: capture.AffiliationInternal}
	}
	switch string(h.Origin) {
	case kfOriginCustomer:
		r.Sender, r.Direction = customer, capture.DirectionInbound
		r.Recipients = []capture.Participant{kfAccount}
	case kfOriginServicer:
		r.Sender, r.Direction = servicer, capture.DirectionOutbound
		r.Recipients = []capture.Participant{customer}
	case kfOriginSystem:
		r.Sender = capture.Participant{ID: "wecom", IDType: idTypeSystem, Affiliation: capture.AffiliationSystem}
		if external != "" {
			r.Recipients = []capture.Participant{customer}
		}
	default:
		r.Sender = capture.Participant{Affiliation: capture.AffiliationUnknown}
	}
	r.Sender = cleanParticipant(r.Sender)
	for i := range r.Recipients {
		r.Recipients[i] = cleanParticipant(r.Recipients[i])
	}
}

func kfMapEvent(r *capture.Record, e *kfEvent) {
	et := string(e.EventType)
	r.NativeType = capture.Clip(strings.ToValidUTF8(capture.JoinText(".", msgTypeEvent, et), ""), 128)
	r.Kind = capture.KindSystem
	if k, ok := kfEventKinds[et]; ok {
		r.Kind = k
	}
	switch et {
	case "user_recall_msg", "servicer_recall_msg":
		r.Target = cleanID(string(e.RecallMsgID))
		if et == "servicer_recall_msg" && e.ServicerUserID != "" {
			r.Sender = cleanParticipant(capture.Participant{ID: string(e.ServicerUserID), IDType: idTypeUserID, Affiliation: capture.AffiliationInternal})
			r.Direction = capture.DirectionOutbound
		} else if et == "user_recall_msg" && e.ExternalUserID != "" {
			r.Sender = cleanParticipant(capture.Participant{ID: string(e.ExternalUserID), IDType: idTypeExternalUserID, Affiliation: capture.AffiliationExternal})
			r.Direction = capture.DirectionInbound
		}
	case "msg_send_fail":
		r.Target = cleanID(string(e.FailMsgID))
	}
}

func kfMapMessage(r *capture.Record, msgType string, b *kfBody) {
	t, ok := kfMsgTypes[msgType]
	if !ok {
		t = "unknown"
	}
	r.MsgType = t
	var text []string
	media := func(m *kfMedia, mime string) {
		if m != nil && m.MediaID != "" {
			r.Attachments = append(r.Attachments, capture.Attachment{NativeRef: capture.Clip(string(m.MediaID), capture.MaxIDBytes), MIME: mime, State: "pending"})
		}
	}
	switch msgType {
	case "text":
		if b.Text != nil {
			text = append(text, string(b.Text.Content))
		}
	case "image":
		media(b.Image, "image/jpeg")
	case "voice":
		media(b.Voice, "audio/amr") // voice_format 0 asks for amr
	case "video":
		media(b.Video, "video/mp4")
	case "file":
		media(b.File, "")
	case "location":
		if l := b.Location; l != nil {
			text = append(text, string(l.Name), string(l.Address), "("+string(l.Latitude)+","+string(l.Longitude)+")")
		}
	case "link":
		if l := b.Link; l != nil {
			text = append(text, string(l.Title), string(l.Desc), string(l.URL))
		}
	case "business_card":
		if c := b.BusinessCard; c != nil {
			text = append(text, string(c.UserID))
		}
	case "miniprogram":
		if m := b.MiniProgram; m != nil {
			text = append(text, string(m.Title), string(m.AppID)+" "+string(m.PagePath))
			media(&kfMedia{MediaID: m.ThumbMediaID}, "image/jpeg")
		}
	case "msgmenu":
		if m := b.MsgMenu; m != nil {
			text = append(text, string(m.HeadContent))
			for _, it := range m.List {
				switch {
				case it.Click != nil:
					text = append(text, string(it.Click.Content))
				case it.View != nil:
					text = append(text, string(it.View.Content)+" "+string(it.View.URL))
				case it.MiniProgram != nil:
					text = append(text, string(it.MiniProgram.Content))
				case it.Text != nil:
					text = append(text, string(it.Text.Content))
				}
			}
			text = append(text, string(m.TailContent))
		}
	case "channels_shop_product":
		if p := b.ChannelsShopProduct; p != nil {
			text = append(text, string(p.Title), string(p.SalesPrice), string(p.ShopNickname), string(p.ProductID))
		}
	case "channels_shop_order":
		if o := b.ChannelsShopOrder; o != nil {
			text = append(text, string(o.ProductTitles), string(o.PriceWording), string(o.State), string(o.ShopNickname), string(o.OrderID))
		}
	case "merged_msg":
		if m := b.MergedMsg; m != nil {
			text = append(text, string(m.Title))
			for _, it := range m.Item {
				text = append(text, string(it.SenderName)+": "+string(it.MsgContent))
			}
		}
	case "channels":
		if c := b.Channels; c != nil {
			text = append(text, string(c.Nickname), string(c.Title))
		}
	case "meeting":
		if m := b.Meeting; m != nil {
			text = append(text, string(m.MeetingID))
		}
	case "schedule":
		if s := b.Schedule; s != nil {
			text = append(text, string(s.ScheduleID))
		}
	}
	r.Text = cleanText(strings.TrimSpace(capture.JoinText("\n", text...)))
	if len(r.Attachments) > capture.MaxAttachments {
		r.Attachments = r.Attachments[:capture.MaxAttachments]
	}
}
