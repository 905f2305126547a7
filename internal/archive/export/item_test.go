package export

import "testing"

func TestItemsStopsWhenAsked(t *testing.T) {
	items := []Item{{LeafIndex: 1}, {LeafIndex: 2}, {LeafIndex: 3}}
	var seen []uint64
	for it, err := range Items(items) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, it.LeafIndex)
		if len(seen) == 2 {
			break
		}
	}
	if len(seen) != 2 || seen[1] != 2 {
		t.Errorf("saw %v", seen)
	}
}
