package detect

import "testing"

func TestValidUSCC(t *testing.T) {
	cases := []struct {
		s    string
		want bool
	}{
		{"91350200776049653A", true}, // research note §2.6 ✓ (org code 77604965-3 ✓)
		{"91350200776049653a", true},
		{"91350200776049653B", false},
		{"91350203M0001QAY9B", false}, // the "exception" a public validator hard-codes
		{"9135020077604965", false},
		{"I1350200776049653A", false}, // I is not in the alphabet
		{"9135020A776049653A", false}, // admin code must be digits
		{"91990200776049653A", false}, // no province 99
	}
	for _, c := range cases {
		if got := ValidUSCC(c.s); got != c.want {
			t.Errorf("ValidUSCC(%q) = %v, want %v", c.s, got, c.want)
		}
	}
	if !usccInner("91350200776049653A") {
		t.Error("inner organisation code 77604965-3 must pass")
	}
	if usccOuter("91350203M0001QAY9B") {
		t.Error("91350203M0001QAY9B must fail the outer check")
	}
}

func TestUSCCWeights(t *testing.T) {
	p := 1
	for i, w := range usccWeights {
		if w != p {
			t.Errorf("weight %d = %d, want 3^%d mod 31 = %d", i, w, i, p)
		}
		p = p * 3 % 31
	}
}
