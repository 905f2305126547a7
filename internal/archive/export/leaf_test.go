package export

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

func TestParseRecordLeaf(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	leaf := store.RecordLeaf(at, "desk/chan", "01A", "dk", []byte("record"), nil)
	got, err := parseRecordLeaf(leaf.Encode())
	if err != nil || got != leaf {
		t.Fatalf("%+v %v", got, err)
	}
	for name, b := range map[string]string{
		"audit leaf":    string(store.AuditLeaf(at, "a", "ingest", "s", "d").Encode()),
		"not canonical": strings.Replace(string(leaf.Encode()), `{"v":1,`, `{ "v":1,`, 1),
		"unknown field": strings.Replace(string(leaf.Encode()), `{"v":1,`, `{"v":1,"x":2,`, 1),
		"version 2":     strings.Replace(string(leaf.Encode()), `{"v":1,`, `{"v":2,`, 1),
		"not JSON":      "leaf",
	} {
		if _, err := parseRecordLeaf([]byte(b)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestLeafDiffs(t *testing.T) {
	leaf := store.RecordLeaf(time.Now(), "desk/chan", "01A", "dk", []byte("record"), []byte("findings"))
	if d := leafDiffs(leaf, "01A", "desk/chan", sha256Hex([]byte("record")), sha256Hex([]byte("findings"))); len(d) != 0 {
		t.Errorf("diffs for a match: %v", d)
	}
	d := leafDiffs(leaf, "01B", "desk/other", sha256Hex([]byte("recorD")), "")
	if len(d) != 4 {
		t.Errorf("want 4 diffs, got %v", d)
	}
	if hashOrEmpty(nil) != "" || hashOrEmpty([]byte("x")) == "" {
		t.Error("hashOrEmpty")
	}
}
