package export

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func encodeDAT(header []string, rows [][]string) []byte {
	var b bytes.Buffer
	encodeDATRow(&b, header)
	for _, r := range rows {
		encodeDATRow(&b, r)
	}
	return b.Bytes()
}

func TestDATRoundTrip(t *testing.T) {
	header := []string{"BEGBATES", "FROM", "TEXT"}
	rows := [][]string{
		{"VIG00000001", "陈大文 Chan Tai Man (chan)", "第一行\r\n第二行\nthird\rfourth"},
		{"VIG00000002", "Þórr þorn", "tab\there, bell\a, DC4\x14, NEL\u0085"},
		{"VIG00000003", "", "emoji 👍🏻 and ® sign"},
	}
	raw := encodeDAT(header, rows)
	if !bytes.HasPrefix(raw, []byte("\xef\xbb\xbfþBEGBATESþ\x14þFROMþ")) || !bytes.HasSuffix(raw, []byte("þ\r\n")) {
		t.Fatalf("unexpected framing: %q", raw[:40])
	}
	d, err := ParseDAT(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"VIG00000001", "陈大文 Chan Tai Man (chan)", "第一行\n第二行\nthird\nfourth"},
		{"VIG00000002", "Þórr þorn", "tab here, bell , DC4 , NEL "},
		// A ® in the data reads back as a line break: the format cannot
		// tell them apart, which is why the natives are authoritative.
		{"VIG00000003", "", "emoji 👍🏻 and \n sign"},
	}
	if !slices.Equal(d.Header, header) || len(d.Rows) != len(want) {
		t.Fatalf("parsed %v", d)
	}
	for i := range want {
		if !slices.Equal(d.Rows[i], want[i]) {
			t.Errorf("row %d = %q, want %q", i, d.Rows[i], want[i])
		}
	}
	if d.Index("TEXT") != 2 || d.Index("NOPE") != -1 {
		t.Error("Index")
	}
	// Without a BOM and with LF line ends, as other tools write.
	lf := strings.ReplaceAll(strings.TrimPrefix(string(raw), utf8BOM), "\r\n", "\n")
	if d2, err := ParseDAT(strings.NewReader(lf)); err != nil || len(d2.Rows) != 3 {
		t.Errorf("LF file: %v", err)
	}
}

func TestParseDATRefuses(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":                 "",
		"BOM only":              utf8BOM,
		"unqualified":           "þAþ\x14B\r\n",
		"no closing þ":          "þAþ\x14þB\r\n",
		"raw line break inside": "þAþ\r\nþx\ny þ\r\n",
		"text after closing":    "þAþx\r\n",
		"field count":           "þAþ\x14þBþ\r\nþ1þ\r\n",
		"empty header field":    "þAþ\x14þþ\r\n",
		"repeated header":       "þAþ\x14þAþ\r\n",
		"blank line":            "þAþ\r\n\r\nþ1þ\r\n",
		"not UTF-8":             "\xfeA\xfe\r\n",
		"control character":     "þAþ\r\nþ\x01þ\r\n",
	} {
		if _, err := ParseDAT(strings.NewReader(raw)); !errors.Is(err, ErrMalformedDAT) {
			t.Errorf("%s: %v, want ErrMalformedDAT", name, err)
		}
	}
	many := strings.Repeat("þAþ\x14", MaxDATFields) + "þAþ\r\n"
	if _, err := ParseDAT(strings.NewReader(many)); !errors.Is(err, ErrMalformedDAT) {
		t.Errorf("too many fields: %v", err)
	}
}

func TestExportedDATReadsBack(t *testing.T) {
	f := buildFixture(t)
	dir, _ := f.exportDir(t, f.options(FormatDAT))
	raw, err := os.ReadFile(filepath.Join(dir, DATFile))
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDAT(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Header, datFields) || len(d.Rows) != len(f.items) {
		t.Fatalf("header %v, %d rows", d.Header, len(d.Rows))
	}
	col := func(row []string, name string) string { return row[d.Index(name)] }
	for i, row := range d.Rows {
		it := f.items[i]
		rec := it.Record.Record
		if col(row, "RECORDID") != rec.ID || col(row, "SHA256HASH") != sum(it.RecordBytes) || col(row, "CUSTODIAN") != it.Record.Custodian {
			t.Errorf("row %d: %q", i, row)
		}
		if col(row, "DATESENT") != rec.SentAt.UTC().Format("01/02/2006") || col(row, "TIMESENT") != rec.SentAt.UTC().Format("15:04:05") {
			t.Errorf("row %d dates %q %q", i, col(row, "DATESENT"), col(row, "TIMESENT"))
		}
		// Every path is relative, Windows-style, and names a file.
		for _, field := range []string{"NATIVEPATH", "TEXTPATH"} {
			p := col(row, field)
			if !strings.HasPrefix(p, `.\`) || strings.Contains(p, "/") {
				t.Errorf("row %d %s %q", i, field, p)
			}
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(slashPath(p)))); err != nil {
				t.Errorf("row %d %s: %v", i, field, err)
			}
		}
		text, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(slashPath(col(row, "TEXTPATH")))))
		if !bytes.HasPrefix(text, []byte(utf8BOM)) || !strings.Contains(string(text), "Record: "+rec.ID) {
			t.Errorf("row %d: text file %q", i, text)
		}
	}
	if got := d.Rows[0][d.Index("FROM")]; got != "陈大文 Chan Tai Man (chan)" {
		t.Errorf("FROM %q", got)
	}
	slack := d.Rows[len(d.Rows)-3]
	if slack[d.Index("BEGBATES")] != "VIG00000016" || slack[d.Index("TO")] != "" {
		t.Errorf("slack row %q", slack)
	}
}

func TestDATPaths(t *testing.T) {
	if got := datPath("natives/01ABC.json"); got != `.\natives\01ABC.json` {
		t.Errorf("datPath = %q", got)
	}
	if got := slashPath(datPath("text/a/b.txt")); got != "text/a/b.txt" {
		t.Errorf("slashPath = %q", got)
	}
	if datPath("") != "" {
		t.Error("an empty path must stay empty")
	}
}
