package inbound

import "testing"

func TestSeenCacheForgetsOldestPastCapacity(t *testing.T) {
	s := NewSeenCache(2)
	s.Add("a")
	s.Add("b")
	s.Add("a") // already there: must not take a second slot
	if !s.Seen("a") || !s.Seen("b") || s.Seen("c") {
		t.Fatal("a and b are remembered, c is not")
	}
	s.Add("c")
	if s.Seen("a") || !s.Seen("b") || !s.Seen("c") {
		t.Fatal("adding c past capacity forgets a, the oldest")
	}
	if NewSeenCache(0) == nil || !func() bool { z := NewSeenCache(0); z.Add("x"); return z.Seen("x") }() {
		t.Fatal("a zero capacity still remembers one key")
	}
}
