package detect

import "testing"

func TestKindNames(t *testing.T) {
	want := []string{"ChinaResidentID", "HongKongID", "TaiwanID", "ChinaMobile", "UnionPayCard",
		"PaymentCard", "IBAN", "SWIFT", "USCC", "Email", "CryptoAddress", "Passport"}
	ks := Kinds()
	if len(ks) != len(want) {
		t.Fatalf("Kinds() = %v", ks)
	}
	for i, k := range ks {
		if k.String() != want[i] {
			t.Errorf("Kind %d String = %q, want %q", k, k.String(), want[i])
		}
		got, ok := ParseKind(want[i])
		if !ok || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", want[i], got, ok)
		}
	}
	for _, bad := range []string{"", "chinaresidentid", "Kind(0)", "IBAN "} {
		if _, ok := ParseKind(bad); ok {
			t.Errorf("ParseKind(%q) succeeded", bad)
		}
	}
	if Kind(0).String() != "Kind(0)" || Kind(200).String() != "Kind(200)" {
		t.Error("invalid kinds must print as Kind(N)")
	}
}

func TestSet(t *testing.T) {
	s := SetOf(IBAN, Email, Kind(0), Kind(99))
	if !s.Has(IBAN) || !s.Has(Email) || s.Has(SWIFT) || s.Has(Kind(0)) || s.Has(Kind(99)) {
		t.Errorf("SetOf = %b", s)
	}
	for _, k := range Kinds() {
		if !All.Has(k) {
			t.Errorf("All lacks %v", k)
		}
	}
	if All != SetOf(Kinds()...) {
		t.Errorf("All = %b, want %b", All, SetOf(Kinds()...))
	}
	if All.Has(Kind(0)) || All.Has(kindEnd) {
		t.Error("All holds an invalid kind")
	}
}
