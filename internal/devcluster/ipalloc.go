package devcluster

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// DefaultPodCIDR is where pod IPs come from. Linux routes all of 127.0.0.0/8
// to the loopback interface, so every pod gets an address of its own without
// any network setup, and two pods can both listen on port 8080.
var DefaultPodCIDR = netip.MustParsePrefix("127.1.0.0/16")

// ipAllocator hands out one address per pod from a prefix.
type ipAllocator struct {
	mu     sync.Mutex
	prefix netip.Prefix
	next   netip.Addr
	used   map[netip.Addr]types.UID
}

func newIPAllocator(prefix netip.Prefix) (*ipAllocator, error) {
	prefix = prefix.Masked()
	if !prefix.Addr().Is4() || prefix.Bits() > 30 {
		return nil, fmt.Errorf("pod CIDR %s must be IPv4 with room for at least two pods", prefix)
	}
	a := &ipAllocator{prefix: prefix, used: map[netip.Addr]types.UID{}}
	// Start at a random host address: two vigil dev instances (or test
	// runs) on one machine share the loopback interface, and starting both
	// at the first address would give their first pods the same IP.
	hosts := uint64(1)<<(32-prefix.Bits()) - 2
	base := prefix.Addr().As4()
	n := binary.BigEndian.Uint32(base[:]) + 1 + uint32(rand.Uint64N(hosts))
	var next [4]byte
	binary.BigEndian.PutUint32(next[:], n)
	a.next = netip.AddrFrom4(next)
	return a, nil
}

// usable reports whether a is a host address of the prefix (not the network
// or the broadcast address).
func (a *ipAllocator) usable(ip netip.Addr) bool {
	if !a.prefix.Contains(ip) || ip == a.prefix.Addr() {
		return false
	}
	return a.prefix.Contains(ip.Next())
}

// allocate returns the pod's address: prefer when it is usable and free (a
// pod keeps its IP across a restart of vigil dev), else the next free one.
// Addresses are handed out round-robin so a just-released one is reused last.
func (a *ipAllocator) allocate(uid types.UID, prefer netip.Addr) (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for ip, owner := range a.used {
		if owner == uid {
			return ip, nil
		}
	}
	if prefer.IsValid() && a.usable(prefer) {
		if _, taken := a.used[prefer]; !taken {
			a.used[prefer] = uid
			return prefer, nil
		}
	}
	start := a.next
	ip := start
	for {
		if a.usable(ip) {
			if _, taken := a.used[ip]; !taken {
				a.used[ip] = uid
				a.next = ip.Next()
				return ip, nil
			}
		}
		ip = ip.Next()
		if !a.prefix.Contains(ip) {
			ip = a.prefix.Addr().Next()
		}
		if ip == start {
			return netip.Addr{}, fmt.Errorf("no free pod IP left in %s", a.prefix)
		}
	}
}

func (a *ipAllocator) release(ip netip.Addr) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.used, ip)
}

// checkLoopback verifies that this host can listen on an address of the
// prefix (true on Linux; macOS routes only 127.0.0.1 unless aliased).
func checkLoopback(prefix netip.Prefix) error {
	ip := prefix.Masked().Addr().Next()
	l, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
	if err != nil {
		return fmt.Errorf("pod IPs come from %s, but this host cannot listen on %s (on macOS: sudo ifconfig lo0 alias %s): %w", prefix, ip, ip, err)
	}
	return l.Close()
}
