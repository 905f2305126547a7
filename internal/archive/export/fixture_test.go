package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/capture"
)

const testOrigin = "archive.example.com/tenant-a"

// day0 is the first day of the fixture's conversations.
var day0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixture is a small archive: a log with record and audit leaves, a signed
// checkpoint over it, and the items and attachment content to export.
type fixture struct {
	items       []Item
	tree        *tlog.Tree
	signer      *tlog.Signer
	checkpoint  []byte
	attachments memAttachments
	// byNative finds a record id by its native id.
	byNative map[string]string
}

// treeProofs serves proofs from an in-memory tree.
type treeProofs struct{ t *tlog.Tree }

func (p treeProofs) InclusionProof(_ context.Context, index, size uint64) ([]tlog.Hash, error) {
	return p.t.InclusionProof(index, size)
}

// memAttachments serves attachment content from memory.
type memAttachments map[attKey][]byte

func (m memAttachments) OpenAttachment(_ context.Context, recordID string, index int) (io.ReadCloser, error) {
	b, ok := m[attKey{recordID, index}]
	if !ok {
		return nil, fmt.Errorf("record %s attachment %d: %w", recordID, index, ErrAttachmentUnavailable)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// builder accumulates records into a log.
type builder struct {
	t     testing.TB
	rng   *rand.ChaCha8
	f     *fixture
	audit int
}

func newBuilder(t testing.TB) *builder {
	var seed [32]byte
	copy(seed[:], "vigil export test fixture seed..")
	return &builder{t: t, rng: rand.NewChaCha8(seed), f: &fixture{tree: &tlog.Tree{}, attachments: memAttachments{}, byNative: map[string]string{}}}
}

// participants of the fixture.
var (
	chan_ = capture.Participant{ID: "chan", IDType: "wecom_userid", DisplayName: "陈大文 Chan Tai Man", Affiliation: capture.AffiliationInternal, Org: "Vigil Securities"}
	lee   = capture.Participant{ID: "wmLee01", IDType: "wecom_external_userid", DisplayName: "李小龍 Bruce", Affiliation: capture.AffiliationExternal}
	wong  = capture.Participant{ID: "wong", IDType: "wecom_userid", DisplayName: "黃小姐", Affiliation: capture.AffiliationInternal}
	zhang = capture.Participant{ID: "wmZhang", IDType: "wecom_external_userid", DisplayName: "张三", Affiliation: capture.AffiliationExternal}
	desk  = capture.Participant{ID: "85255550000", IDType: "phone", DisplayName: "Vigil Desk", Affiliation: capture.AffiliationInternal}
	wang  = capture.Participant{ID: "8613800000000", IDType: "wa_id", DisplayName: "王先生", Affiliation: capture.AffiliationExternal}
	pat   = capture.Participant{ID: "U024BE7LH", IDType: "slack_user", DisplayName: "O'Brien, Pat", Affiliation: capture.AffiliationInternal}
)

var (
	wecomGroup = capture.Conversation{ID: "wrProjectGroup", Type: "group", Name: "项目群 Project 粵"}
	waChat     = capture.Conversation{ID: "8613800000000", Type: "direct"}
	slackDeals = capture.Conversation{ID: "C0123", Type: "channel", Name: "#deals"}
)

// add appends a record leaf for rec (and, every other record, an audit leaf
// before it, so leaf indexes are not consecutive) and returns the record's id.
func (b *builder) add(account store.AccountKey, custodian string, rec capture.Record, findings []capture.Finding) string {
	b.t.Helper()
	id, err := capture.NewIDFrom(rec.SentAt, b.rng)
	if err != nil {
		b.t.Fatal(err)
	}
	rec.SchemaVersion, rec.ID = capture.SchemaVersion, id
	if rec.CapturedAt.IsZero() {
		rec.CapturedAt = rec.SentAt.Add(2 * time.Second)
	}
	rec.SetDedupKey()
	if err := rec.Validate(); err != nil {
		b.t.Fatalf("fixture record %s: %v", rec.NativeID, err)
	}
	body, err := json.Marshal(&rec)
	if err != nil {
		b.t.Fatal(err)
	}
	var fbody []byte
	if len(findings) > 0 {
		if fbody, err = json.Marshal(findings); err != nil {
			b.t.Fatal(err)
		}
	}
	if b.audit%2 == 0 {
		b.f.tree.Append(store.AuditLeaf(rec.CapturedAt, "connector", store.AuditIngest, string(account), `{"inserted":1}`).Hash())
	}
	b.audit++
	ingested := rec.CapturedAt.Add(time.Second)
	leaf := store.RecordLeaf(ingested, account, rec.ID, rec.DedupKey, body, fbody)
	idx := b.f.tree.Append(leaf.Hash())
	b.f.items = append(b.f.items, Item{
		Record:      store.StoredRecord{Record: rec, Findings: findings, Account: account, Custodian: custodian, IngestedAt: ingested},
		RecordBytes: body, FindingsBytes: fbody, LeafIndex: idx, Leaf: leaf.Encode(),
	})
	b.f.byNative[rec.NativeID] = rec.ID
	return id
}

// attach stores content for attachment index of record id.
func (b *builder) attach(id string, index int, content []byte) {
	b.f.attachments[attKey{id, index}] = content
}

// sign appends a couple of trailing audit leaves and signs the checkpoint.
func (b *builder) sign() *fixture {
	b.t.Helper()
	b.f.tree.Append(store.AuditLeaf(day0, "auditor", store.AuditRead, "desk/chan", "q=报价").Hash())
	var seed [32]byte
	copy(seed[:], "vigil export test signing key...")
	signer, err := tlog.GenerateSigner(testOrigin, bytes.NewReader(seed[:]))
	if err != nil {
		b.t.Fatal(err)
	}
	cp, err := tlog.SignCheckpoint(tlog.Checkpoint{Origin: testOrigin, Size: b.f.tree.Size(), Root: b.f.tree.Root()}, signer)
	if err != nil {
		b.t.Fatal(err)
	}
	b.f.signer, b.f.checkpoint = signer, cp
	return b.f
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// pdfBytes and jpegBytes stand in for attachment content.
var (
	pdfBytes  = []byte("%PDF-1.7\n报价单 quotation v2\n%%EOF\n")
	sheetData = []byte("PK\x03\x04 fake xlsx bytes, 表格")
)

// buildFixture is the standard fixture: a WeCom group chat in Chinese,
// Cantonese and English with every kind of record, a WhatsApp direct chat
// over two days with a read receipt, and a Slack channel with a thread.
func buildFixture(t testing.TB) *fixture {
	b := newBuilder(t)
	const (
		wecomAcct store.AccountKey = "desk/chan-wecom"
		waAcct    store.AccountKey = "desk/chan-whatsapp"
		slackAcct store.AccountKey = "desk/chan-slack"
		custodian                  = "陈大文 Chan Tai Man"
	)
	at := func(min int) time.Time { return day0.Add(time.Duration(min) * time.Minute) }
	wecom := func(native string, kind capture.Kind, sender capture.Participant, min int, text string) capture.Record {
		return capture.Record{Channel: "wecom", Account: "chan", NativeID: native, Kind: kind, Conversation: wecomGroup,
			Sender: sender, Recipients: []capture.Participant{chan_, lee, wong}, Direction: capture.DirectionInternal,
			MsgType: "text", Text: text, SentAt: at(min)}
	}

	m1 := wecom("m1", capture.KindMessage, chan_, 0, "你食咗飯未呀？今日個會議改咗去三點，記得帶埋份報價單。")
	b.add(wecomAcct, custodian, m1, []capture.Finding{{Policy: "desk/mnpi", Rule: "meeting-move", Category: "MNPI",
		Severity: "High", Confidence: 80, Start: 0, End: 3, Evidence: "你***"}})

	m2 := wecom("m2", capture.KindMessage, lee, 1, "OK 👍🏻 收到！The quote is attached.")
	m2.Direction, m2.ReplyTo, m2.MsgType = capture.DirectionInbound, "m1", "file"
	m2.Attachments = []capture.Attachment{
		{Name: "报价单 v2.pdf", MIME: "application/pdf", Size: int64(len(pdfBytes)), SHA256: sum(pdfBytes), State: "stored"},
		{Name: "terms.xlsx", MIME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Size: int64(len(sheetData)), SHA256: sum(sheetData), State: "stored"},
	}
	m2ID := b.add(wecomAcct, custodian, m2, nil)
	b.attach(m2ID, 0, pdfBytes)
	b.attach(m2ID, 1, sheetData)

	m3 := wecom("m3", capture.KindMessage, wong, 2, "")
	m3.MsgType = "image"
	m3.Attachments = []capture.Attachment{{NativeRef: "sdk-file-1", Name: "IMG_0001.jpg", MIME: "image/jpeg", State: "pending", ProviderMD5: "0cc175b9c0f1b6a831c399e269772661"}}
	b.add(wecomAcct, custodian, m3, nil)

	edit := wecom("m2-edit", capture.KindEdit, lee, 3, "OK 👍🏻 收到！The revised quote is attached.")
	edit.Target = "m2"
	edited := at(3)
	edit.EditedAt = &edited
	b.add(wecomAcct, custodian, edit, nil)

	react := wecom("m1-react-chan", capture.KindReaction, chan_, 4, "")
	react.Target, react.Reaction, react.MsgType = "m1", &capture.Reaction{Emoji: "👍"}, ""
	b.add(wecomAcct, custodian, react, nil)
	heart := wecom("m2-react-wong", capture.KindReaction, wong, 5, "")
	heart.Target, heart.Reaction, heart.MsgType = "m2", &capture.Reaction{Emoji: "❤️"}, ""
	b.add(wecomAcct, custodian, heart, nil)
	unheart := wecom("m2-unreact-wong", capture.KindReaction, wong, 6, "")
	unheart.Target, unheart.Reaction, unheart.MsgType = "m2", &capture.Reaction{Emoji: "❤️", Removed: true}, ""
	b.add(wecomAcct, custodian, unheart, nil)

	recall := wecom("m3-recall", capture.KindRecall, wong, 7, "")
	recall.Target, recall.MsgType = "m3", "recall"
	b.add(wecomAcct, custodian, recall, nil)

	join := wecom("join-1", capture.KindMembership, capture.Participant{}, 8, "")
	join.NativeType, join.MsgType, join.Recipients = "event.change_external_chat.add_member", "", []capture.Participant{zhang}
	b.add(wecomAcct, custodian, join, nil)
	leave := wecom("leave-1", capture.KindMembership, capture.Participant{}, 9, "")
	leave.NativeType, leave.MsgType, leave.Recipients = "event.change_external_chat.del_member", "", []capture.Participant{zhang}
	b.add(wecomAcct, custodian, leave, nil)

	consent := wecom("consent-1", capture.KindConsent, lee, 10, "")
	consent.MsgType, consent.Consent = "consent", &capture.Consent{SubjectID: lee.ID, State: capture.ConsentAgree, At: at(10)}
	b.add(wecomAcct, custodian, consent, nil)

	gap := wecom("gap-1", capture.KindSystem, capture.Participant{}, 11, "capture gap: connector restarted\r\nmessages between 09:10 and 09:12 may be missing")
	gap.NativeType, gap.MsgType, gap.Recipients = "vigil.capture_gap", "", nil
	b.add(wecomAcct, custodian, gap, nil)

	// WhatsApp: a direct chat over two days, with a read receipt.
	wa := func(native string, kind capture.Kind, sender, to capture.Participant, sent time.Time, text string) capture.Record {
		return capture.Record{Channel: "whatsapp", Account: desk.ID, NativeID: native, Kind: kind, Conversation: waChat,
			Sender: sender, Recipients: []capture.Participant{to}, MsgType: "text", Text: text, SentAt: sent}
	}
	w1 := wa("wamid.1", capture.KindMessage, desk, wang, at(30), "Good morning 王先生, the contract is ready. 合約已經準備好。")
	w1.Direction = capture.DirectionOutbound
	b.add(waAcct, custodian, w1, nil)
	read := wa("wamid.1:read", capture.KindStatus, desk, wang, at(31), "")
	read.Target, read.NativeType, read.MsgType, read.Direction = "wamid.1", "read", "", capture.DirectionOutbound
	b.add(waAcct, custodian, read, nil)
	w2 := wa("wamid.2", capture.KindMessage, wang, desk, day0.AddDate(0, 0, 1).Add(time.Hour), "好的，谢谢！🙏 Thank you.")
	w2.Direction = capture.DirectionInbound
	b.add(waAcct, custodian, w2, nil)

	// Slack: a channel with a thread, characters that load files and HTML
	// care about, and an edit of a message from before the export.
	sl := func(native string, kind capture.Kind, min int, text string) capture.Record {
		return capture.Record{Channel: "slack", Account: "B01", NativeID: native, Kind: kind, Conversation: slackDeals,
			Sender: pat, Direction: capture.DirectionInternal, MsgType: "text", Text: text, SentAt: at(60 + min)}
	}
	s1 := sl("C0123:1700000000.000100", capture.KindMessage, 0, "Let's close 😀 — “quotes” & <b>tags</b>, þorn and ® sign\nsecond line")
	b.add(slackAcct, "Pat O'Brien", s1, nil)
	s2 := sl("C0123:1700000000.000200", capture.KindMessage, 1, "Agreed, 下週一簽約。")
	s2.ReplyTo = s1.NativeID
	s2.Conversation.ThreadID = "1700000000.000100"
	b.add(slackAcct, "Pat O'Brien", s2, nil)
	s3 := sl("C0123:1600000000.000100", capture.KindEdit, 2, "fixed typo in an old message")
	s3.Target = "C0123:1600000000.000050"
	b.add(slackAcct, "Pat O'Brien", s3, nil)
	return b.sign()
}

// options are export options for the fixture.
func (f *fixture) options(formats ...Format) Options {
	return Options{
		Metadata: Metadata{ExportID: "PROD-0001", Matter: "SEC v. Example 2026-17", Actor: "legal@example.com",
			CreatedAt: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC), Query: `account:desk/chan-* from:2026-03-01 "报价"`},
		Formats: formats, Origin: testOrigin, Checkpoint: f.checkpoint,
		Verifiers: []*tlog.Verifier{f.signer.Verifier()}, Proofs: treeProofs{f.tree},
		Attachments: f.attachments, BatesPrefix: "VIG", Generator: "vigil test",
	}
}

func (f *fixture) verifiers() []*tlog.Verifier { return []*tlog.Verifier{f.signer.Verifier()} }

// exportDir exports the fixture into a new folder and returns it.
func (f *fixture) exportDir(t testing.TB, opts Options) (string, *Result) {
	t.Helper()
	dir := t.TempDir() + "/export"
	sink, err := NewDirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	sink.NoSync = true
	res, err := Export(context.Background(), sink, opts, Items(f.items))
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	return dir, res
}
