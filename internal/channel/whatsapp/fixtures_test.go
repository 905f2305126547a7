package whatsapp

import (
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
)

const (
	testPhoneNumberID = "106540352242922"
	testAppSecret     = "testappsecret"
	testVerifyToken   = "vigil-verify-8d3f"
)

// metaReference is Meta's reference "messages" notification, verbatim.
const metaReference = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=","timestamp":"1749416383","type":"text","text":{"body":"Does it come in another color?"}}]},"field":"messages"}]}]}`

// notification wraps message objects in a notification for our number.
func notification(messages ...string) string {
	return changeFor(testPhoneNumberID, "messages", `"messages":[`+strings.Join(messages, ",")+`]`)
}

func changeFor(phoneNumberID, field, items string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp",` +
		`"metadata":{"display_phone_number":"15550783881","phone_number_id":"` + phoneNumberID + `"},` +
		`"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],` + items + `},"field":"` + field + `"}]}]}`
}

func textMessage(id, body string) string {
	return `{"from":"16505551234","id":"` + id + `","timestamp":"1749416383","type":"text","text":{"body":"` + body + `"}}`
}

func stamp(r *capture.Record) {
	connector.Stamp(r, time.Unix(1749416400, 0).UTC(), "test/account", "test")
}
