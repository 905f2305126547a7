package devcluster

import (
	"net/netip"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestIPAllocator(t *testing.T) {
	a, err := newIPAllocator(netip.MustParsePrefix("127.9.0.0/30"))
	if err != nil {
		t.Fatal(err)
	}
	if !a.usable(a.next) {
		t.Fatalf("random start %v is not a host address", a.next)
	}
	a.next = netip.MustParseAddr("127.9.0.1")
	// A /30 has two host addresses: .1 and .2.
	ip1, err := a.allocate("a", netip.Addr{})
	if err != nil || ip1.String() != "127.9.0.1" {
		t.Fatalf("first = %v, %v", ip1, err)
	}
	if again, _ := a.allocate("a", netip.Addr{}); again != ip1 {
		t.Fatalf("same pod got a second address %v", again)
	}
	// The broadcast address is never preferred.
	ip2, err := a.allocate("b", netip.MustParseAddr("127.9.0.3"))
	if err != nil || ip2.String() != "127.9.0.2" {
		t.Fatalf("second = %v, %v", ip2, err)
	}
	if _, err := a.allocate("c", netip.Addr{}); err == nil {
		t.Fatal("allocation from a full range succeeded")
	}
	a.release(ip1)
	ip3, err := a.allocate(types.UID("c"), netip.Addr{})
	if err != nil || ip3 != ip1 {
		t.Fatalf("after release = %v, %v", ip3, err)
	}

	// A preferred, free address is honoured (a pod keeps its IP across restarts).
	b, _ := newIPAllocator(DefaultPodCIDR)
	want := netip.MustParseAddr("127.1.4.20")
	if got, _ := b.allocate("p", want); got != want {
		t.Fatalf("preferred = %v, want %v", got, want)
	}
	if got, _ := b.allocate("q", want); got == want {
		t.Fatal("a taken address was handed out twice")
	}
	if got, _ := b.allocate("r", netip.MustParseAddr("10.0.0.1")); !b.usable(got) {
		t.Fatalf("address outside the range: %v", got)
	}
	// Random starts stay inside the range's host addresses.
	for range 1000 {
		c, _ := newIPAllocator(netip.MustParsePrefix("127.9.0.0/29"))
		if !c.usable(c.next) {
			t.Fatalf("random start %v is not a host address", c.next)
		}
	}
}
