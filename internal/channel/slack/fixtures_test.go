package slack

import (
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
)

// Slack's documented signing example.
const (
	officialSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	officialTimestamp = 1531420618
	officialBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	officialSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	testTeam          = "T061EG9R6"
)

const urlVerification = `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`

// callback wraps an event as Slack's event_callback envelope does.
func callback(eventID, event string) string {
	return `{"token":"XXYYZZ","team_id":"` + testTeam + `","context_team_id":"` + testTeam + `","api_app_id":"A0MDYCDME","event":` + event +
		`,"type":"event_callback","authorizations":[{"enterprise_id":null,"team_id":"` + testTeam + `","user_id":"U0L4B2L4U","is_bot":true}],` +
		`"event_id":"` + eventID + `","event_time":1706781600,"is_ext_shared_channel":false,"event_context":"4-eyJldCI6Im1lc3NhZ2UifQ"}`
}

const plainMessage = `{"client_msg_id":"6b1b6c1e","type":"message","text":"Hi <@U0G9QF9C6>, the Lotus term sheet is attached","user":"U2147483697","ts":"1706781600.000200","blocks":[],"team":"T061EG9R6","channel":"C2147483705","event_ts":"1706781600.000200","channel_type":"channel"}`

func messageEvent(ts, text string) string {
	return strings.NewReplacer("1706781600.000200", ts, "Hi <@U0G9QF9C6>, the Lotus term sheet is attached", text).Replace(plainMessage)
}

var testNow = time.Unix(1706781660, 0)

func stamp(r *capture.Record) {
	connector.Stamp(r, testNow.UTC(), "test/account", "test")
}
