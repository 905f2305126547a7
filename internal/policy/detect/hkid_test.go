package detect

import "testing"

func TestValidHKID(t *testing.T) {
	cases := []struct {
		id   string
		want bool
	}{
		{"A123456(3)", true}, // research note §2.2 ✓
		{"A1234563", true},
		{"a123456(3)", true},
		{"A123456(4)", false},
		{"A1234564", false},
		// Two-letter prefix, worked by hand: A=10, B=11;
		// 10·9 + 11·8 + 9·7 + 8·6 + 7·5 + 6·4 + 5·3 + 4·2 = 371 ≡ 8 (mod 11),
		// check = 11 − 8 = 3. The "A=1, no pad" variant disagrees.
		{"AB987654(3)", true},
		{"AB9876543", true},
		{"AB987654(2)", false},
		{"A12345(3)", false},
		{"1123456(3)", false},
		{"ABC123456(3)", false},
		{"A123456(", false},
		{"", false},
	}
	for _, c := range cases {
		if got := ValidHKID(c.id); got != c.want {
			t.Errorf("ValidHKID(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}

// TestHKIDCheckA finds bodies whose check value is 10 and checks that only
// "A" is accepted for them.
func TestHKIDCheckA(t *testing.T) {
	found := 0
	for n := 0; n < 2000 && found < 5; n++ {
		body := []byte("C000000")
		for i, v := 6, n; i > 0; i, v = i-1, v/10 {
			body[i] = byte('0' + v%10)
		}
		if hkidCheck(body) != 10 {
			continue
		}
		found++
		if !ValidHKID(string(body)+"(A)") || !ValidHKID(string(body)+"A") || ValidHKID(string(body)+"(0)") {
			t.Errorf("%s: check A not handled", body)
		}
	}
	if found == 0 {
		t.Fatal("no body with check A found")
	}
}
