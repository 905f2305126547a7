package line

import (
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
)

const (
	testBot    = "U9f2a7c3e5b1d4f6a8c0e2b4d6f8a0c1e"
	testSecret = "testchannelsecret"
)

// A text message in a one-to-one chat, shaped as LINE documents it.
const textEvent = `{"type":"message","message":{"type":"text","id":"468789577898262530","quoteToken":"q3Plxr4AgKd...","text":"Please sell 200 shares at market @example","mention":{"mentionees":[{"index":29,"length":8,"type":"user","userId":"U0123456789abcdef0123456789abcdef"}]}},"webhookEventId":"01H810YECXQQZ37VAXPF6H9E6T","deliveryContext":{"isRedelivery":false},"timestamp":1692251666727,"source":{"type":"user","userId":"U4af4980629bbbb43e5d7b5b3f3d86c9b"},"replyToken":"38ef843bde154d9b91c21320ffd17a0f","mode":"active"}`

func webhook(events ...string) string {
	return `{"destination":"` + testBot + `","events":[` + strings.Join(events, ",") + `]}`
}

func event(webhookEventID, typ, source, extra string) string {
	return `{"type":"` + typ + `","mode":"active","timestamp":1692251666727,"source":` + source +
		`,"webhookEventId":"` + webhookEventID + `","deliveryContext":{"isRedelivery":false}` + extra + `}`
}

const (
	userSource  = `{"type":"user","userId":"U4af4980629bbbb43e5d7b5b3f3d86c9b"}`
	groupSource = `{"type":"group","groupId":"Ca56f94637c1234567890abcdef012345","userId":"U4af4980629bbbb43e5d7b5b3f3d86c9b"}`
	roomSource  = `{"type":"room","roomId":"Ra8dbf4673c4c812cd491258042226c99","userId":"U4af4980629bbbb43e5d7b5b3f3d86c9b"}`
)

func stamp(r *capture.Record) {
	connector.Stamp(r, time.Unix(1692251700, 0).UTC(), "test/account", "test")
}
