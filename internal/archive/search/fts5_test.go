package search

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// openFTS5 creates an in-memory FTS5 table indexed as a backend would.
func openFTS5(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	// One connection: every connection to :memory: is its own database.
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE VIRTUAL TABLE message_fts USING fts5(terms, tokenize='unicode61')`); err != nil {
		tb.Fatalf("create fts5 table: %v", err)
	}
	return db
}

func insertFTS5(tb testing.TB, db *sql.DB, id int64, text string) {
	tb.Helper()
	if _, err := db.Exec(`INSERT INTO message_fts(rowid, terms) VALUES (?, ?)`, id, IndexTerms(text)); err != nil {
		tb.Fatalf("insert %d: %v", id, err)
	}
}

// searchFTS5 runs a parsed query the way a backend does: the index narrows,
// Match decides when the query has phrases.
func searchFTS5(db *sql.DB, q *Query, texts map[int64]string) ([]int64, error) {
	rows, err := db.Query(`SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid`, q.FTS5())
	if err != nil {
		return nil, fmt.Errorf("match %q: %w", q.FTS5(), err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		if q.NeedsVerification() && !q.Match(texts[id]) {
			continue
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

var archiveMessages = map[int64]string{
	1:  "明天去香港开会",
	2:  "聽日去香港開會",
	3:  "听日我哋去饮茶",
	4:  "我哋讨论内幕交易嘅问题，唔好讲出去",
	5:  "他們在討論內幕交易",
	6:  "内幕消息 交易所明日公布",
	7:  "保证收益百分之二十",
	8:  "收到利益分配",
	9:  "今晚食飯未",
	10: "饭堂见",
	11: "Guaranteed returns of 20% per month!",
	12: "guarantee is not the same",
	13: "Please check case-42 before Friday",
	14: "case 17 and 42 are closed",
	15: "提现cash到我的私人账户",
	16: "請轉到私人帳戶",
	17: "ＡＢＣ公司的股票",
	18: "abc company shares",
	19: `He said "NEAR" the end`,
	20: "price * 2 (approx) col:val",
	21: "USD100 transfer",
	22: "香。港",
	23: "洗 钱",
	24: "洗.钱",
	25: "c\u200bash withdrawal",
	26: "Ｃａｓｈ ｂａｃｋ",
	27: "港香",
	28: "香港大学",
	29: "insider trading is illegal",
	30: "trading insider tips",
	31: "OR else",
	32: "内幕",
}

func TestFTS5Search(t *testing.T) {
	db := openFTS5(t)
	for id, text := range archiveMessages {
		insertFTS5(t, db, id, text)
	}
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		// Two-character Chinese words, which FTS5 trigram cannot answer.
		{"香港", []int64{1, 2, 28}},
		{"聽日", []int64{2, 3}},
		{"听日", []int64{2, 3}},
		{"收益", []int64{7}},
		// Single characters, through unigrams, either script.
		{"飯", []int64{9, 10}},
		{"饭", []int64{9, 10}},
		// A longer word inside a sentence, across Simplified and Traditional.
		{"内幕交易", []int64{4, 5}},
		{"內幕交易", []int64{4, 5}},
		{"内幕", []int64{4, 5, 6, 32}},
		{"帳戶", []int64{15, 16}},
		{"账户", []int64{15, 16}},
		// A space inside Chinese does not hide a word; punctuation splits it.
		{"洗钱", []int64{23}},
		// Latin words, width and case folded, invisible characters ignored.
		{"guaranteed", []int64{11}},
		{"cash", []int64{15, 25, 26}},
		{"ＡＢＣ", []int64{17, 18}},
		{"abc", []int64{17, 18}},
		{"提现cash", []int64{15}},
		{"100", []int64{21}},
		{"usd100", []int64{21}},
		{"case-42", []int64{13, 14}},
		{`"case 42"`, []int64{13}},
		{"insider trading", []int64{29, 30}},
		{`"insider trading"`, []int64{29}},
		{`insider -"insider trading"`, []int64{30}},
		{"香港 -大学", []int64{1, 2}},
		{"香港 OR 内幕交易", []int64{1, 2, 4, 5, 28}},
		{"收益 OR guaranteed 20", []int64{11}},
		{`「内幕交易」`, []int64{4, 5}},
		{`"香港`, []int64{1, 2, 28}},
		// FTS5 syntax is literal text.
		{`"NEAR"`, []int64{19}},
		{`NEAR(香港 内幕)`, nil},
		{`NEAR("香港" "开会", 5)`, nil},
		{"col:val", []int64{20}},
		{"terms:香港", nil},
		{"{terms}: 香港", nil},
		{"price*", []int64{20}},
		{"^香港", []int64{1, 2, 28}},
		// OR is this language's own operator; the quotes are punctuation.
		{`香港" OR "x`, []int64{1, 2, 28}},
		{`"香港" AND`, nil},
		{"OR", []int64{31}},
		{"NOT 香港", nil},
		{`香港) OR (内幕`, []int64{1, 2, 4, 5, 6, 28, 32}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.query, err)
			}
			got, err := searchFTS5(db, q, archiveMessages)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == nil {
				want = []int64{}
			}
			if !slices.Equal(got, want) {
				t.Errorf("query %q (FTS5 %s) = %v, want %v", tc.query, q.FTS5(), got, want)
			}
			// The index and Match agree: Match over every record gives the
			// same ids, so a backend without an index answers identically.
			var scanned []int64
			for id := int64(1); id <= int64(len(archiveMessages)); id++ {
				if q.Match(archiveMessages[id]) {
					scanned = append(scanned, id)
				}
			}
			if scanned == nil {
				scanned = []int64{}
			}
			if !slices.Equal(scanned, want) {
				t.Errorf("Match scan for %q = %v, want %v", tc.query, scanned, want)
			}
		})
	}
}

// TestFTS5SeesOneTokenPerTerm checks with SQLite's own tokenizer that every
// term of IndexTerms is one unicode61 token, whatever the script, including
// ideographs newer than unicode61's Unicode 6.1 tables.
func TestFTS5SeesOneTokenPerTerm(t *testing.T) {
	db := openFTS5(t)
	if _, err := db.Exec(`CREATE VIRTUAL TABLE vocab USING fts5vocab(message_fts, 'instance')`); err != nil {
		t.Fatalf("create fts5vocab: %v", err)
	}
	text := "聽日去香港 case-42 привет 𰻞𰻞面 カタカナー 한국어 ＡＢＣ"
	insertFTS5(t, db, 1, text)
	rows, err := db.Query(`SELECT term FROM vocab ORDER BY offset`)
	if err != nil {
		t.Fatalf("read vocab: %v", err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var term string
		if err := rows.Scan(&term); err != nil {
			t.Fatal(err)
		}
		got = append(got, term)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := IndexTermArray(text); !slices.Equal(got, want) {
		t.Errorf("unicode61 tokens\n got %v\nwant %v", got, want)
	}
	if kind, s, err := DecodeTerm(got[0]); err != nil || kind != Unigram || s != "听" {
		t.Errorf("first term %q decodes to %v %q %v, want unigram 听", got[0], kind, s, err)
	}
}

func TestParseRefusesBeforeTheIndex(t *testing.T) {
	for _, query := range []string{"*", "-香港", "", "   ", `""`, "😀"} {
		if _, err := Parse(query); !errors.Is(err, ErrEmptyQuery) && !errors.Is(err, ErrOnlyExclusions) {
			t.Errorf("Parse(%q) error = %v, want ErrEmptyQuery or ErrOnlyExclusions", query, err)
		}
	}
}
