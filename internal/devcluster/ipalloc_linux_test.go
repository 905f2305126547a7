package devcluster

import "testing"

// Linux routes all of 127.0.0.0/8 to the loopback interface, which the pod
// IPs rely on; other systems route only 127.0.0.1, hence the file suffix.
func TestLoopbackRange(t *testing.T) {
	if err := checkLoopback(DefaultPodCIDR); err != nil {
		t.Fatal(err)
	}
}
