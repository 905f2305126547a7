package detect

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestGeneratorsValid is the property test: every generated value passes
// its own validator, and the generators are deterministic per seed.
func TestGeneratorsValid(t *testing.T) {
	gens := []struct {
		name  string
		gen   func(*rand.Rand) string
		valid func(string) bool
	}{
		{"ChinaResidentID", GenChinaResidentID, ValidChinaResidentID},
		{"HKID", GenHKID, ValidHKID},
		{"TaiwanID", GenTaiwanID, ValidTaiwanID},
		{"USCC", GenUSCC, func(s string) bool { return ValidUSCC(s) && usccInner(s) }},
		{"CardVisa", func(r *rand.Rand) string { return GenCard(r, "4", 16) }, Luhn},
		{"CardUnionPay19", func(r *rand.Rand) string { return GenCard(r, "62", 19) }, ValidPaymentCard},
		{"CardAmex", func(r *rand.Rand) string { return GenCard(r, "37", 15) }, ValidPaymentCard},
		{"IBAN", GenIBAN, ValidIBAN},
		{"ChinaMobile", GenChinaMobile, ValidChinaMobile},
		{"TRON", GenTRON, func(s string) bool { return len(s) == 34 && s[0] == 'T' && ValidBase58Check(s, 0x41) }},
		{"BTC", GenBTC, func(s string) bool { return s[0] == '1' && ValidBase58Check(s, 0x00) }},
		{"ETH", GenETH, ValidEIP55},
	}
	for _, g := range gens {
		r1 := rand.New(rand.NewPCG(1, 2))
		r2 := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 2000; i++ {
			v := g.gen(r1)
			if !g.valid(v) {
				t.Fatalf("%s: generated %q fails its validator", g.name, v)
			}
			if w := g.gen(r2); w != v {
				t.Fatalf("%s: not deterministic: %q vs %q", g.name, v, w)
			}
		}
	}
}

func TestGenHKIDForms(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	two := false
	for i := 0; i < 200; i++ {
		v := GenHKID(r)
		if !strings.HasSuffix(v, ")") || v[len(v)-3] != '(' {
			t.Fatalf("%q is not bracketed", v)
		}
		two = two || len(v) == 11
	}
	if !two {
		t.Error("no two-letter HKID generated")
	}
}
