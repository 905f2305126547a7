package telegram

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBusinessConnectionsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	c, err := newConnections(2, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		id   string
		user int64
	}{{"conn-a", 1}, {"conn-b", 2}, {"conn-b", 2}, {"conn-c", 3}} {
		if err := c.Put(p.id, p.user); err != nil {
			t.Fatal(err)
		}
	}
	again, err := newConnections(2, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := again.User("conn-a"); ok {
		t.Fatal("conn-a was evicted past capacity and must stay forgotten")
	}
	for id, want := range map[string]int64{"conn-b": 2, "conn-c": 3} {
		if got, ok := again.User(id); !ok || got != want {
			t.Fatalf("after a restart %s belongs to %d (%v), want %d", id, got, ok, want)
		}
	}
	// The oldest survivor is evicted first after a reload too.
	if err := again.Put("conn-d", 4); err != nil {
		t.Fatal(err)
	}
	if _, ok := again.User("conn-b"); ok {
		t.Fatal("conn-b, the oldest, should have been evicted by conn-d")
	}

	if err := os.WriteFile(filepath.Join(dir, connectionsFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newConnections(2, dir); err == nil {
		t.Fatal("a corrupt connections file must stop the channel with a clear error")
	}
	mem, err := newConnections(1, "")
	if err != nil || mem.Put("x", 1) != nil {
		t.Fatal("without a state directory connections live in memory")
	}
}
