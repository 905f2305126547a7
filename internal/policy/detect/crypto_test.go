package detect

import (
	"math/big"
	"testing"
)

func TestCryptoVectors(t *testing.T) {
	cases := []struct {
		s    string
		want bool
	}{
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", true},                             // P2PKH ✓
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", false},                            // checksum
		{"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", true},                             // P2SH (BIP-13 example)
		{"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", true},                     // bech32 v0 ✓
		{"BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", true},                     // all upper is allowed
		{"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdQ", false},                    // mixed case
		{"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp", false},                    // checksum
		{"bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", true}, // bech32m v1 ✓
		{"tb1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", false},                    // testnet hrp
		{"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", true},                             // TRON ✓
		{"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", false},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", true},  // EIP-55 ✓
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", false}, // one case flipped ✗
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", true},  // no checksum: valid shape
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", false},  // 39 hex
		{"", false},
	}
	for _, c := range cases {
		if got := ValidCryptoAddress(c.s); got != c.want {
			t.Errorf("ValidCryptoAddress(%q) = %v, want %v", c.s, got, c.want)
		}
	}
	if !ValidBase58Check("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 0x41) || ValidBase58Check("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 0x00) {
		t.Error("TRON version byte is 0x41")
	}
	if !ValidBase58Check("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", 0x00) {
		t.Error("P2PKH version byte is 0x00")
	}
	if !ValidEIP55("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed") || ValidEIP55("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed") {
		t.Error("ValidEIP55 wants a mixed-case checksum")
	}
	if !ValidBech32("bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297") {
		t.Error("ValidBech32 bech32m")
	}
	// A version-2 address (bech32m), from the BIP-350 valid set.
	if ok, detail := checkSegwit("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"); !ok || detail != detailBech32m {
		t.Error("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs is a valid v2 address")
	}
}

// segwitEncode builds an address for version ver and program prog with the
// checksum constant cst, so tests can pair versions with the wrong constant.
func segwitEncode(ver byte, prog []byte, cst uint32) string {
	data := []byte{ver}
	acc, bits := 0, 0
	for _, b := range prog {
		acc = acc<<8 | int(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			data = append(data, byte(acc>>bits&31))
		}
	}
	if bits > 0 {
		data = append(data, byte(acc<<(5-bits)&31))
	}
	enc := make([]byte, 0, len(data)+6)
	for _, v := range data {
		enc = append(enc, bech32Charset[v])
	}
	// polymod over data ‖ six zeros, xor cst, gives the checksum values.
	pm := bech32Polymod(string(enc)+"qqqqqq") ^ cst
	for i := 0; i < 6; i++ {
		enc = append(enc, bech32Charset[pm>>(5*(5-i))&31])
	}
	return "bc1" + string(enc)
}

func TestSegwitVersionConstant(t *testing.T) {
	p20, p32 := make([]byte, 20), make([]byte, 32)
	for i := range p32 {
		p32[i] = byte(i * 7)
	}
	copy(p20, p32)
	cases := []struct {
		ver  byte
		prog []byte
		cst  uint32
		want bool
	}{
		{0, p20, bech32Const, true},
		{0, p32, bech32Const, true},
		{0, p20, bech32mConst, false}, // v0 must use bech32
		{1, p32, bech32mConst, true},
		{1, p32, bech32Const, false},      // v1+ must use bech32m
		{0, p32[:25], bech32Const, false}, // v0 program must be 20 or 32 bytes
		{16, p32[:2], bech32mConst, true},
		{1, p32[:1], bech32mConst, false}, // program too short
	}
	for _, c := range cases {
		a := segwitEncode(c.ver, c.prog, c.cst)
		if got := ValidBech32(a); got != c.want {
			t.Errorf("v%d len %d const %#x: %s valid=%v, want %v", c.ver, len(c.prog), c.cst, a, got, c.want)
		}
	}
	// The research vector round-trips through the encoder.
	if a := segwitEncode(0, mustProg(t, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"), bech32Const); a != "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq" {
		t.Errorf("encoder round trip: %s", a)
	}
}

// mustProg extracts the witness program of a bech32 address.
func mustProg(t *testing.T, a string) []byte {
	t.Helper()
	data := a[3 : len(a)-6]
	var out []byte
	acc, bits := 0, 0
	for i := 1; i < len(data); i++ {
		acc = acc<<5 | int(bech32Value[data[i]])
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	return out
}

// refBase58 decodes with math/big, the oracle for base58Decode25.
func refBase58(s string) []byte {
	n := new(big.Int)
	for i := 0; i < len(s); i++ {
		n.Mul(n, big.NewInt(58))
		n.Add(n, big.NewInt(int64(b58Value[s[i]])))
	}
	out := n.Bytes()
	for i := 0; i < len(s) && s[i] == '1'; i++ {
		out = append([]byte{0}, out...)
	}
	return out
}

func TestBase58AgainstBigInt(t *testing.T) {
	for _, s := range []string{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
		"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "1111111111111111111114oLvT2", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"} {
		var p [25]byte
		ok := base58Decode25(s, &p)
		ref := refBase58(s)
		if ok != (len(ref) == 25) || (ok && string(ref) != string(p[:])) {
			t.Errorf("%s: decode %v %x, big.Int %x", s, ok, p, ref)
		}
	}
	if got := base58Encode([]byte{0, 0, 1, 2}); string(refBase58(got)) != string([]byte{0, 0, 1, 2}) {
		t.Errorf("base58Encode round trip: %q", got)
	}
}
