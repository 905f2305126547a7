package detect

import (
	"testing"
	"time"
)

// refPRCCheck is an independent oracle for the ISO 7064 MOD 11-2 check:
// weights computed as 2^(17-i) mod 11 rather than read from a table.
func refPRCCheck(first17 string) byte {
	s := 0
	for i := 0; i < 17; i++ {
		w := 1
		for k := 0; k < 17-i; k++ {
			w = w * 2 % 11
		}
		s += int(first17[i]-'0') * w
	}
	return "10X98765432"[s%11]
}

// withCheck completes 17 digits with their correct check character, so a
// test vector fails only for the reason it was built for.
func withCheck(first17 string) string { return first17 + string(refPRCCheck(first17)) }

func TestPRCWeights(t *testing.T) {
	for i, w := range prcWeights {
		p := 1
		for k := 0; k < 17-i; k++ {
			p = p * 2 % 11
		}
		if w != p {
			t.Errorf("weight %d = %d, want %d", i+1, w, p)
		}
	}
}

func TestValidChinaResidentID(t *testing.T) {
	cases := []struct {
		id   string
		want bool
	}{
		{"11010519491231002X", true}, // research note §2.1 ✓
		{"11010519491231002x", true},
		{"110105194912310021", false},           // last character changed to 1 ✗
		{"11010519491231002", false},            // 17
		{"110105194912310020X", false},          // 19
		{withCheck("11010519490230002"), false}, // 30 February
		{withCheck("11010520000229002"), true},  // 2000 is a leap year
		{withCheck("11010519000229002"), false}, // 1900 is not
		{withCheck("11010518991231002"), false}, // before 1900
		{withCheck("11010519491331002"), false}, // month 13
		{withCheck("11010519490100002"), false}, // day 0
		{withCheck("99010519491231002"), false}, // region 99
		{withCheck("10010519491231002"), false}, // region 10
		{withCheck("20260301093000123"), false}, // order number: region 20
		{withCheck("71010519491231002"), true},  // 71 Taiwan
		{withCheck("81000019900101123"), true},  // HK resident permit
		{withCheck("82000019900101123"), true},  // Macau resident permit
		{withCheck("83000019900101123"), true},  // Taiwan resident permit
		{withCheck("81010519900101123"), false}, // 81 with a county code
		{withCheck("93115619900101123"), true},  // foreign permanent resident, province 31
		{withCheck("99915619900101123"), false}, // 9 + province 99
		{withCheck("91010519491231002"), true},  // region 91 ("国外")
		{"1101051949123100ZX", false},
	}
	for _, c := range cases {
		if got := ValidChinaResidentID(c.id); got != c.want {
			t.Errorf("ValidChinaResidentID(%q) = %v, want %v", c.id, got, c.want)
		}
	}
	if refPRCCheck("11010519491231002") != 'X' {
		t.Fatal("oracle disagrees with the research vector")
	}
}

func TestPRCFutureBirthDate(t *testing.T) {
	today := todayInt(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	ok, _, _ := checkPRC18(withCheck("11010520261123002"), today)
	if !ok {
		t.Error("born today must be valid")
	}
	ok, _, _ = checkPRC18(withCheck("11010520261124002"), today)
	if ok {
		t.Error("born tomorrow must be invalid")
	}
}

func TestPRCDetails(t *testing.T) {
	today := 20261123
	for id, want := range map[string]string{
		"11010519491231002X":           detailResidentID,
		withCheck("81000019900101123"): detailPermitHK,
		withCheck("82000019900101123"): detailPermitMO,
		withCheck("83000019900101123"): detailPermitTW,
		withCheck("93115619900101123"): detailForeignPermanent,
	} {
		ok, detail, needCtx := checkPRC18(id, today)
		if !ok || detail != want || needCtx != (want == detailForeignPermanent) {
			t.Errorf("%s: %v %q %v, want %q", id, ok, detail, needCtx, want)
		}
	}
}

func TestValidChinaResidentID15(t *testing.T) {
	cases := []struct {
		id   string
		want bool
	}{
		{"110105491231002", true},
		{"110105490230002", false}, // 30 February 1949
		{"990105491231002", false}, // region
		{"810000491231002", false}, // permits did not exist before 1999
		{"11010549123100X", false},
		{"1101054912310021", false},
	}
	for _, c := range cases {
		if got := ValidChinaResidentID15(c.id); got != c.want {
			t.Errorf("ValidChinaResidentID15(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}
