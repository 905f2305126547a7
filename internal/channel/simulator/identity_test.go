package simulator

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

func TestPRCIDChecksum(t *testing.T) {
	tests := []struct {
		first17 string
		want    byte
		wantErr bool
	}{
		// The worked example of GB 11643-1999.
		{"11010519491231002", 'X', false},
		{"44030419900101123", '3', false},
		{"1101051949123100", 0, true},
		{"1101051949123100A", 0, true},
	}
	for _, tc := range tests {
		got, err := prcIDChecksum(tc.first17)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("prcIDChecksum(%q) = %q, %v; want %q, err %v", tc.first17, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestFakeIdentifiersAreWellFormed(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	idPattern := regexp.MustCompile(`^\d{6}(19[6-9]\d|200[0-4])(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])\d{3}[\dX]$`)
	phonePattern := regexp.MustCompile(`^(1[3-9]\d{9}|\+852 [5689]\d{3} \d{4})$`)
	for i := 0; i < 1000; i++ {
		id := fakePRCID(rng)
		if !idPattern.MatchString(id) {
			t.Fatalf("bad PRC id %q", id)
		}
		if check, _ := prcIDChecksum(id[:17]); check != id[17] {
			t.Fatalf("PRC id %q has wrong checksum", id)
		}
		if p := fakePhone(rng); !phonePattern.MatchString(p) {
			t.Fatalf("bad phone %q", p)
		}
	}
}
