package export

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var sinkTime = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

func TestDirSink(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	s, err := NewDirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create("a/b/c.txt", sinkTime)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create("a/d.txt", sinkTime); err == nil {
		t.Error("a second file was opened while one is open")
	}
	io.WriteString(w, "hello 你好")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create("a/b/c.txt", sinkTime); err == nil {
		t.Error("a file was overwritten")
	}
	for _, bad := range []string{"../x", "/abs", "a//b", ".", ""} {
		if _, err := s.Create(bad, sinkTime); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, "a", "b", "c.txt"))
	if err != nil || info.Size() != int64(len("hello 你好")) || !info.ModTime().Equal(sinkTime) {
		t.Errorf("written file %v %v", info, err)
	}
	if _, err := NewDirSink(dir); err == nil {
		t.Error("a non-empty folder was accepted")
	}
}

func TestZipSink(t *testing.T) {
	var buf bytes.Buffer
	s := NewZipSink(&buf)
	for _, name := range []string{"natives/x.json", "名字.txt"} {
		w, err := s.Create(name, sinkTime)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, name)
		w.Close()
		if _, err := w.Write([]byte("late")); err == nil {
			t.Error("a closed entry took a write")
		}
	}
	if _, err := s.Create("natives/x.json", sinkTime); err == nil {
		t.Error("a name was written twice")
	}
	if _, err := s.Create("../x", sinkTime); err == nil {
		t.Error("an unsafe name was accepted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(zr.File) != 2 || zr.File[1].Name != "名字.txt" || !zr.File[1].Modified.Equal(sinkTime) {
		t.Fatalf("zip %v %v", zr, err)
	}
}

func TestZipSinkStore(t *testing.T) {
	var buf bytes.Buffer
	s := NewZipSink(&buf)
	s.Store = true
	w, _ := s.Create("a.txt", sinkTime)
	io.WriteString(w, "stored")
	w.Close()
	s.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || zr.File[0].Method != zip.Store {
		t.Fatalf("%v %v", zr.File, err)
	}
}
