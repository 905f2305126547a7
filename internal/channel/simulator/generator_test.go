package simulator

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

func generate(seed int64, n int) []*capture.Record {
	g := NewGenerator(seed, "run1", "Alice Wong")
	out := make([]*capture.Record, n)
	for i := range out {
		out[i] = g.Next(t0.Add(time.Duration(i) * time.Second))
	}
	return out
}

func TestGeneratorIsDeterministic(t *testing.T) {
	a, b, c := generate(42, 200), generate(42, 200), generate(43, 200)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed produced different traffic")
	}
	same := 0
	for i := range a {
		if a[i].Text == c[i].Text {
			same++
		}
	}
	if same > 50 {
		t.Fatalf("different seeds share %d of 200 texts", same)
	}
}

func TestTemplateBankIsRich(t *testing.T) {
	if n := len(ordinaryTemplates) + len(sensitiveTemplates); n < 60 {
		t.Fatalf("%d templates, want at least 60", n)
	}
	langs := map[string]int{}
	for _, tpl := range append(append([]template{}, ordinaryTemplates...), sensitiveTemplates...) {
		langs[tpl.lang]++
		if strings.Count(tpl.text, "{") != strings.Count(tpl.text, "}") {
			t.Errorf("unbalanced placeholder in %q", tpl.text)
		}
	}
	for _, l := range []string{langSimplified, langTraditional, langCantonese, langEnglish, langMixed} {
		if langs[l] < 5 {
			t.Errorf("only %d templates in %s", langs[l], l)
		}
	}
}

func TestGeneratedTrafficLooksReal(t *testing.T) {
	recs := generate(7, 3000)
	var sensitive, cantonese, inbound, outbound, internal int
	native := map[string]bool{}
	for i, r := range recs {
		// What the connector's sink adds before validating.
		r.CapturedAt = r.SentAt
		r.ID = capture.NewID(r.SentAt)
		r.SetDedupKey()
		if err := r.Validate(); err != nil {
			t.Fatalf("record %d invalid: %v", i, err)
		}
		if strings.ContainsAny(r.Text, "{}") {
			t.Fatalf("unfilled placeholder: %q", r.Text)
		}
		if native[r.NativeID] {
			t.Fatalf("duplicate nativeID %s", r.NativeID)
		}
		native[r.NativeID] = true
		for _, s := range []string{"内幕消息", "內幕消息", "保证收益", "保證回報", "保证", "包賺", "Inside info", "guaranteed", "Guaranteed", "Keep this between us", "偷偷話你知", "身份证号", "身份證號", "ID number", "身份证号码", "手機", "手机", "personal number", "WhatsApp", "演唱會飛"} {
			if strings.Contains(r.Text, s) {
				sensitive++
				break
			}
		}
		for _, s := range []string{"佢哋", "唔係", "嘅", "咗"} {
			if strings.Contains(r.Text, s) {
				cantonese++
				break
			}
		}
		switch r.Direction {
		case capture.DirectionInbound:
			inbound++
		case capture.DirectionOutbound:
			outbound++
		case capture.DirectionInternal:
			internal++
		}
		if r.Channel != ChannelName || r.Provenance.SigScheme != "none" || r.Provenance.SigVerified {
			t.Fatalf("record %d has wrong channel or provenance: %+v", i, r.Provenance)
		}
	}
	if pct := sensitive * 100 / len(recs); pct < 6 || pct > 20 {
		t.Errorf("%d%% sensitive messages, want about %d%%", pct, sensitivePercent)
	}
	if cantonese < 100 || inbound < 300 || outbound < 300 || internal < 100 {
		t.Errorf("thin mix: cantonese %d inbound %d outbound %d internal %d", cantonese, inbound, outbound, internal)
	}
}

func TestSlug(t *testing.T) {
	tests := map[string]string{"Alice Wong": "alice-wong", "a.b@c": "a-b-c", "王伟": "u738bu4f1f"}
	for in, want := range tests {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
