// Package simulator is a traffic generator channel for development and demos:
// plausible conversations between staff and clients in Simplified and
// Traditional Chinese, written Cantonese, English and code-mixed text, with
// occasional content a compliance policy should catch. It is deterministic
// for a seed.
package simulator

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

// ChannelName is capture.Record.Channel for simulated traffic.
const ChannelName = "simulator"

// sensitivePercent is how often a message comes from the sensitive bank.
const sensitivePercent = 12

type person struct {
	id, name string
	aff      capture.Affiliation
}

type conversation struct {
	id, kind, name string
	members        []person
}

// Generator produces simulated records. It is not safe for concurrent use.
type Generator struct {
	rng   *rand.Rand
	seed  int64
	runID string
	seq   uint64
	convs []conversation
	staff []person
}

// NewGenerator returns a generator whose output depends only on seed, runID
// and custodian. runID goes into native ids so two runs with one seed do not
// collide in the archive's deduplication; pass a fixed value for repeatable
// output.
func NewGenerator(seed int64, runID, custodian string) *Generator {
	if custodian == "" {
		custodian = "王伟"
	}
	me := person{id: "staff-" + slug(custodian), name: custodian, aff: capture.AffiliationInternal}
	colleagues := []person{
		{"staff-chan-ka-yan", "陳嘉欣", capture.AffiliationInternal},
		{"staff-michael-lee", "Michael Lee", capture.AffiliationInternal},
		{"staff-li-shufen", "李淑芬", capture.AffiliationInternal},
	}
	clients := []person{
		{"client-wong-tai", "黃太", capture.AffiliationExternal},
		{"client-zhang", "张先生", capture.AffiliationExternal},
		{"client-ho", "Ms. Ho", capture.AffiliationExternal},
		{"client-lau", "劉生", capture.AffiliationExternal},
		{"client-zhou", "周总", capture.AffiliationExternal},
	}
	convs := []conversation{
		{"dm-wong-tai", "direct", "黃太", []person{me, clients[0]}},
		{"dm-zhang", "direct", "张先生", []person{me, clients[1]}},
		{"dm-ho", "direct", "Ms. Ho", []person{me, clients[2]}},
		{"grp-lotus", "group", "Project Lotus 项目群", []person{me, colleagues[1], clients[3], clients[4]}},
		{"grp-desk", "group", "交易台 Desk", []person{me, colleagues[0], colleagues[1], colleagues[2]}},
		{"dm-chan", "direct", "陳嘉欣", []person{me, colleagues[0]}},
	}
	return &Generator{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x5eed)),
		seed:  seed,
		runID: runID,
		convs: convs,
		staff: append([]person{me}, colleagues...),
	}
}

// Next returns the next simulated message, sent at sentAt. The connector's
// sink fills id, capturedAt and dedupKey.
func (g *Generator) Next(sentAt time.Time) *capture.Record {
	g.seq++
	conv := g.convs[g.rng.IntN(len(g.convs))]
	sender := conv.members[g.rng.IntN(len(conv.members))]
	bank := ordinaryTemplates
	if g.rng.IntN(100) < sensitivePercent {
		bank = sensitiveTemplates
	}
	tpl := bank[g.rng.IntN(len(bank))]
	r := &capture.Record{
		SchemaVersion: capture.SchemaVersion,
		Channel:       ChannelName,
		Account:       g.staff[0].id,
		NativeID:      fmt.Sprintf("sim-%d-%s-%08d", g.seed, g.runID, g.seq),
		Kind:          capture.KindMessage,
		Conversation:  capture.Conversation{ID: conv.id, Type: conv.kind, Name: conv.name},
		Sender:        participant(sender),
		Direction:     direction(sender, conv.members),
		MsgType:       "text",
		Text:          g.fill(tpl.text, conv, sender),
		SentAt:        sentAt.UTC(),
		Provenance:    capture.Provenance{SigVerified: false, SigScheme: "none"},
	}
	for _, m := range conv.members {
		if m.id != sender.id {
			r.Recipients = append(r.Recipients, participant(m))
		}
	}
	return r
}

// fill replaces placeholders; names come from the conversation so that a
// greeting addresses someone who is actually in it.
func (g *Generator) fill(text string, conv conversation, sender person) string {
	pick := func(list []string) string { return list[g.rng.IntN(len(list))] }
	client, staff := "您", g.staff[1+g.rng.IntN(len(g.staff)-1)].name
	for _, m := range conv.members {
		if m.aff == capture.AffiliationExternal {
			client = m.name
		} else if m.id != sender.id {
			staff = m.name
		}
	}
	replacements := []struct{ key, val string }{
		{"{client}", client}, {"{staff}", staff}, {"{stock}", pick(stocks)}, {"{amount}", pick(amounts)},
		{"{pct}", pick(pcts)}, {"{time}", pick(times)}, {"{date}", pick(dates)},
	}
	for _, r := range replacements {
		if strings.Contains(text, r.key) {
			text = strings.ReplaceAll(text, r.key, r.val)
		}
	}
	if strings.Contains(text, "{prcid}") {
		text = strings.ReplaceAll(text, "{prcid}", fakePRCID(g.rng))
	}
	if strings.Contains(text, "{phone}") {
		text = strings.ReplaceAll(text, "{phone}", fakePhone(g.rng))
	}
	return text
}

func participant(p person) capture.Participant {
	return capture.Participant{ID: p.id, DisplayName: p.name, Affiliation: p.aff}
}

// direction is relative to the organisation: from a client is inbound, from
// staff to a conversation with clients is outbound, staff-only is internal.
func direction(sender person, members []person) capture.Direction {
	if sender.aff == capture.AffiliationExternal {
		return capture.DirectionInbound
	}
	for _, m := range members {
		if m.aff == capture.AffiliationExternal {
			return capture.DirectionOutbound
		}
	}
	return capture.DirectionInternal
}

// slug makes an id-safe token from a name.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '@' || r == '-' || r == '_':
			b.WriteByte('-')
		default:
			b.WriteString(fmt.Sprintf("u%x", r))
		}
	}
	return b.String()
}
