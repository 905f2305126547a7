package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/capture"
)

const benchRecords = 10000

// benchTexts are typical message bodies: Cantonese, Mandarin, English and
// mixed, with emoji.
var benchTexts = []string{
	"你食咗飯未呀？今日個會議改咗去三點，記得帶埋份報價單。",
	"请把第三季度的报价单发给我，谢谢。客户明天上午十点到。",
	"Can you confirm the allocation before the close? 👍",
	"OK 收到！I'll send the revised terms sheet after lunch 🙏",
	"唔該幫我check下份合約第5條，佢哋話要改條款。",
}

// benchFixture is benchRecords messages in 40 group chats over 10 days,
// every tenth with findings, in a log with an audit leaf every other record.
func benchFixture(b *testing.B) *fixture {
	bd := newBuilder(b)
	members := []capture.Participant{chan_, lee, wong, zhang}
	for i := range benchRecords {
		conv := capture.Conversation{ID: fmt.Sprintf("wrGroup%02d", i%40), Type: "group", Name: fmt.Sprintf("客户群 %d", i%40)}
		rec := capture.Record{Channel: "wecom", Account: "chan", NativeID: fmt.Sprintf("msg-%d", i), Kind: capture.KindMessage,
			Conversation: conv, Sender: members[i%len(members)], Recipients: members, Direction: capture.DirectionInternal,
			MsgType: "text", Text: benchTexts[i%len(benchTexts)],
			SentAt: day0.Add(time.Duration(i) * 86 * time.Second)}
		var findings []capture.Finding
		if i%10 == 0 {
			findings = []capture.Finding{{Policy: "desk/mnpi", Rule: "quote", Category: "MNPI", Severity: "High", Confidence: 80, Start: 0, End: 3}}
		}
		bd.add(store.AccountKey("desk/chan-wecom"), "陈大文 Chan Tai Man", rec, findings)
	}
	return bd.sign()
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(benchRecords)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkExport exports 10,000 records: natives and manifest only, each
// format alone and every format, to a deflated zip stream; every format to
// a stored zip and to a folder (without fsync, which on a real volume adds
// one sync per file).
func BenchmarkExport(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		formats []Format
	}{{"natives", nil}, {"rsmf", []Format{FormatRSMF}}, {"eml", []Format{FormatEML}}, {"dat", []Format{FormatDAT}}, {"all", AllFormats}} {
		b.Run(c.name+"/zip", func(b *testing.B) {
			for b.Loop() {
				if _, err := Export(ctx, NewZipSink(io.Discard), f.options(c.formats...), Items(f.items)); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b)
		})
	}
	b.Run("all/zip-store", func(b *testing.B) {
		for b.Loop() {
			sink := NewZipSink(io.Discard)
			sink.Store = true
			if _, err := Export(ctx, sink, f.options(AllFormats...), Items(f.items)); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b)
	})
	b.Run("all/dir", func(b *testing.B) {
		root := b.TempDir()
		n := 0
		for b.Loop() {
			n++
			dir := filepath.Join(root, fmt.Sprint(n))
			sink, err := NewDirSink(dir)
			if err != nil {
				b.Fatal(err)
			}
			sink.NoSync = true
			if _, err := Export(ctx, sink, f.options(AllFormats...), Items(f.items)); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
		reportRate(b)
	})
}

// BenchmarkJSONMarshalBaseline marshals the same 10,000 records, the least
// any export has to do, for scale.
func BenchmarkJSONMarshalBaseline(b *testing.B) {
	f := benchFixture(b)
	for b.Loop() {
		for i := range f.items {
			if _, err := json.Marshal(&f.items[i].Record); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRate(b)
}

// BenchmarkVerify verifies a 10,000-record export in every format.
func BenchmarkVerify(b *testing.B) {
	f := benchFixture(b)
	dir := filepath.Join(b.TempDir(), "export")
	sink, err := NewDirSink(dir)
	if err != nil {
		b.Fatal(err)
	}
	sink.NoSync = true
	if _, err := Export(context.Background(), sink, f.options(AllFormats...), Items(f.items)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rep, err := VerifyDir(context.Background(), dir, testOrigin, f.verifiers())
		if err != nil || !rep.OK() {
			b.Fatalf("%v %v", err, rep.Problems)
		}
	}
	reportRate(b)
}
