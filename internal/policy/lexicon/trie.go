package lexicon

import "slices"

// trieNode is a node of the build-time trie; the double array replaces it.
type trieNode struct {
	children map[uint16]int32
	term     TermID
	depth    int32
}

func (m *Matcher) buildTrie() []trieNode {
	nodes := []trieNode{{term: -1}}
	for id, t := range m.terms {
		n := int32(0)
		for _, r := range t.Symbols {
			c := m.classOf[r]
			next, ok := nodes[n].children[c]
			if !ok {
				next = int32(len(nodes))
				nodes = append(nodes, trieNode{term: -1, depth: nodes[n].depth + 1})
				if nodes[n].children == nil {
					nodes[n].children = map[uint16]int32{}
				}
				nodes[n].children[c] = next
			}
			n = next
		}
		nodes[n].term = TermID(id)
	}
	return nodes
}

// buildDoubleArray lays the trie out as a double array in breadth-first
// order, then computes failure links and output links on it.
func (m *Matcher) buildDoubleArray(nodes []trieNode) {
	size := len(nodes) + m.classes + 1
	m.base = make([]int32, size)
	m.check = make([]int32, size)
	for i := range m.check {
		m.check[i] = -1
	}
	used := make([]bool, size)
	used[0] = true
	at := make([]int32, len(nodes)) // trie node -> double-array index
	order := []int32{0}
	free := newFreeSlots()
	free.take(0)
	var classes []uint16
	for q := 0; q < len(order); q++ {
		n := order[q]
		if len(nodes[n].children) == 0 {
			continue
		}
		classes = classes[:0]
		for c := range nodes[n].children {
			classes = append(classes, c)
		}
		slices.Sort(classes)
		// Only free slots can take the first child, so candidates come from
		// the free-slot finder rather than from counting up one by one.
		var b int32
		for p := free.find(int32(classes[0]) + 1); ; p = free.find(p + 1) {
			b = p - int32(classes[0])
			if fits(used, b, classes) {
				break
			}
		}
		need := int(b) + int(classes[len(classes)-1]) + 1
		if need > len(used) {
			grow := max(need, len(used)*2) - len(used)
			used = append(used, make([]bool, grow)...)
			m.base = append(m.base, make([]int32, grow)...)
			for range grow {
				m.check = append(m.check, -1)
			}
		}
		s := at[n]
		m.base[s] = b
		for _, c := range classes {
			t := b + int32(c)
			used[t] = true
			free.take(t)
			m.check[t] = s
			child := nodes[n].children[c]
			at[child] = t
			order = append(order, child)
		}
	}
	// Pack the arrays into one node per slot: a step reads a slot's check,
	// and the next step its base and fail, so keeping them in one cache line
	// halves the memory traffic of the scan loop.
	total := len(used)
	m.nodes = make([]daNode, total)
	m.term = make([]TermID, total)
	for i := range m.nodes {
		m.nodes[i] = daNode{base: m.base[i], check: m.check[i], emit: -1}
		m.term[i] = -1
	}
	m.base, m.check = nil, nil
	m.root = make([]rootEdge, m.classes)
	for c, child := range nodes[0].children {
		e := rootEdge{state: at[child]}
		for gc := range nodes[child].children {
			e.children |= 1 << (gc & 63)
		}
		m.root[c] = e
	}
	// Failure links in breadth-first order: a child's link is where its
	// parent's link goes on the same class.
	for _, n := range order {
		s := at[n]
		m.term[s] = nodes[n].term
		for c, child := range nodes[n].children {
			t := at[child]
			if n == 0 {
				m.nodes[t].fail = 0
				continue
			}
			m.nodes[t].fail = m.step(m.nodes[s].fail, c)
		}
	}
	for _, n := range order {
		s := at[n]
		switch {
		case m.term[s] >= 0:
			m.nodes[s].emit = s
		case s != 0:
			m.nodes[s].emit = m.nodes[m.nodes[s].fail].emit
		}
	}
}
func fits(used []bool, b int32, classes []uint16) bool {
	for _, c := range classes {
		if t := b + int32(c); int(t) < len(used) && used[t] {
			return false
		}
	}
	return true
}

// freeSlots finds the first free double-array slot at or after an index,
// union-find style: a taken slot points past itself, and lookups compress the
// path, so placing each node costs nearly constant time.
type freeSlots struct{ next []int32 }

func newFreeSlots() *freeSlots { return &freeSlots{} }

func (f *freeSlots) find(i int32) int32 {
	root := i
	for int(root) < len(f.next) && f.next[root] != root {
		root = f.next[root]
	}
	for int(i) < len(f.next) && f.next[i] != i {
		i, f.next[i] = f.next[i], root
	}
	return root
}

func (f *freeSlots) take(i int32) {
	for int(i) >= len(f.next) {
		f.next = append(f.next, int32(len(f.next)))
	}
	f.next[i] = i + 1
}
