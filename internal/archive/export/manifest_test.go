package export

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadManifestAcceptsAnExport(t *testing.T) {
	f := buildFixture(t)
	dir, res := f.exportDir(t, f.options(AllFormats...))
	body, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if m.ExportID != "PROD-0001" || m.Query != `account:desk/chan-* from:2026-03-01 "报价"` || len(m.Records) != len(f.items) {
		t.Errorf("manifest %+v", m.Metadata)
	}
	again, err := m.encode()
	if err != nil || !bytes.Equal(again, body) {
		t.Error("the manifest does not re-encode to the same bytes")
	}
	line, _ := os.ReadFile(filepath.Join(dir, ManifestSHA256File))
	if got, err := parseManifestSHA256(line); err != nil || got != res.ManifestSHA256 || got != sha256Hex(body) {
		t.Errorf("manifest.sha256 %q (%v)", line, err)
	}
}

func TestReadManifestRefuses(t *testing.T) {
	f := buildFixture(t)
	dir, _ := f.exportDir(t, f.options(AllFormats...))
	body, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	m := readManifestFile(t, dir)
	mutate := func(change func(m *Manifest)) []byte {
		c := *m
		c.Records = append([]RecordEntry(nil), m.Records...)
		c.Files = append([]FileEntry(nil), m.Files...)
		change(&c)
		b, err := c.encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := map[string][]byte{
		"unknown field":      bytes.Replace(body, []byte(`"exportID"`), []byte(`"exportId2":1,"exportID"`), 1),
		"trailing data":      append(append([]byte{}, body...), []byte("{}")...),
		"not JSON":           []byte("exportID: x"),
		"wrong format":       mutate(func(m *Manifest) { m.Format = "vigil.export/v9" }),
		"no checkpoint":      mutate(func(m *Manifest) { m.Checkpoint = "" }),
		"path traversal":     mutate(func(m *Manifest) { m.Files[0].Path = "../etc/passwd" }),
		"manifest listed":    mutate(func(m *Manifest) { m.Files[0].Path = ManifestFile }),
		"unsorted files":     mutate(func(m *Manifest) { m.Files[0], m.Files[1] = m.Files[1], m.Files[0] }),
		"repeated file":      mutate(func(m *Manifest) { m.Files[1] = m.Files[0] }),
		"bad hash":           mutate(func(m *Manifest) { m.Files[0].SHA256 = strings.ToUpper(m.Files[0].SHA256) }),
		"negative size":      mutate(func(m *Manifest) { m.Files[0].Size = -1 }),
		"repeated record":    mutate(func(m *Manifest) { m.Records[1].ID = m.Records[0].ID }),
		"no leaf":            mutate(func(m *Manifest) { m.Records[0].Leaf = nil }),
		"unlisted native":    mutate(func(m *Manifest) { m.Records[0].Native = "natives/other.json" }),
		"EML without format": mutate(func(m *Manifest) { m.Formats = []Format{FormatRSMF, FormatDAT} }),
		"unknown format":     mutate(func(m *Manifest) { m.Formats = append(m.Formats, "pdf") }),
		"repeated attachment": mutate(func(m *Manifest) {
			m.Records[1].Attachments = append(m.Records[1].Attachments, m.Records[1].Attachments[0])
		}),
		"DAT not listed": mutate(func(m *Manifest) {
			for i, f := range m.Files {
				if f.Path == DATFile {
					m.Files = append(m.Files[:i], m.Files[i+1:]...)
					break
				}
			}
		}),
	}
	for name, b := range cases {
		if _, err := ReadManifest(bytes.NewReader(b)); !errors.Is(err, ErrMalformedManifest) {
			t.Errorf("%s: %v, want ErrMalformedManifest", name, err)
		}
	}
}

func TestParseManifestSHA256(t *testing.T) {
	good := strings.Repeat("ab", 32)
	if got, err := parseManifestSHA256([]byte(good + "  manifest.json\n")); err != nil || got != good {
		t.Errorf("%q %v", got, err)
	}
	for _, bad := range []string{"", good, good + " manifest.json\n", good + "  other.json\n", strings.ToUpper(good) + "  manifest.json\n",
		good + "  manifest.json\n" + good + "  manifest.json\n"} {
		if _, err := parseManifestSHA256([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
