package spool

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSegmentNames(t *testing.T) {
	tests := []struct {
		name   string
		wantID uint64
		wantOK bool
	}{
		{segmentName(1), 1, true},
		{segmentName(1 << 50), 1 << 50, true},
		{"cursor", 0, false},
		{"00000000000000000001.seg.tmp", 0, false},
		{"1.seg", 0, false},
		{"0000000000000000000x.seg", 0, false},
	}
	for _, tc := range tests {
		id, ok := parseSegmentName(tc.name)
		if id != tc.wantID || ok != tc.wantOK {
			t.Errorf("parseSegmentName(%q) = %d, %v; want %d, %v", tc.name, id, ok, tc.wantID, tc.wantOK)
		}
	}
}

func TestScanSegmentFindsCommittedEnd(t *testing.T) {
	batch1 := appendFrame(appendFrame(nil, 0, []byte(`{"a":1}`)), flagEndOfBatch, []byte(`{"a":2}`))
	batch2 := appendFrame(appendFrame(nil, 0, []byte(`{"b":1}`)), flagEndOfBatch, []byte(`{"b":2}`))
	unfinished := appendFrame(nil, 0, []byte(`{"c":1}`))
	all := append(append(append([]byte{}, batch1...), batch2...), unfinished...)
	tests := []struct {
		name       string
		content    []byte
		countFrom  int64
		wantEnd    int64
		wantCount  int64
		wantDamage bool
	}{
		{"empty", nil, 0, 0, 0, false},
		{"two whole batches", all[:len(batch1)+len(batch2)], 0, int64(len(batch1) + len(batch2)), 4, false},
		{"unfinished batch dropped", all, 0, int64(len(batch1) + len(batch2)), 4, true},
		{"torn frame dropped", all[:len(batch1)+5], 0, int64(len(batch1)), 2, true},
		{"count from cursor mid batch", all, int64(len(batch1) + len(batch2)/2), int64(len(batch1) + len(batch2)), 1, true},
		{"garbage tail", append(append([]byte{}, batch1...), 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0), 0, int64(len(batch1)), 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), segmentName(1))
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := scanSegment(path, tc.countFrom)
			if err != nil {
				t.Fatalf("scanSegment: %v", err)
			}
			if res.committedEnd != tc.wantEnd || res.recordsAfter != tc.wantCount || (res.damage != nil) != tc.wantDamage {
				t.Fatalf("got end %d count %d damage %v; want %d %d %v", res.committedEnd, res.recordsAfter, res.damage, tc.wantEnd, tc.wantCount, tc.wantDamage)
			}
		})
	}
}

func TestCountFramesRejectsMidFrame(t *testing.T) {
	content := appendFrame(appendFrame(nil, 0, []byte(`{"a":1}`)), flagEndOfBatch, []byte(`{"a":2}`))
	path := filepath.Join(t.TempDir(), segmentName(1))
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := countFrames(path, 0, int64(len(content))); err != nil || n != 2 {
		t.Fatalf("countFrames whole = %d, %v; want 2", n, err)
	}
	if _, err := countFrames(path, 0, 3); err == nil {
		t.Fatalf("countFrames to a mid-frame offset succeeded")
	}
}
