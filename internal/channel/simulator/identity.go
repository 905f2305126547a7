package simulator

import (
	"fmt"
	"math/rand/v2"
)

// prcIDWeights and prcIDCheck are the GB 11643-1999 checksum: the weighted sum
// of the first 17 digits modulo 11 selects the 18th character.
var (
	prcIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	prcIDCheck   = "10X98765432"
	// Real administrative division codes (Beijing Dongcheng, Shanghai Xuhui,
	// Shenzhen Futian, Guangzhou Tianhe, Hangzhou Xihu).
	prcRegions = []string{"110101", "310104", "440304", "440106", "330106"}
)

// prcIDChecksum returns the check character for the first 17 digits.
func prcIDChecksum(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("need 17 digits, got %d", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("position %d is not a digit", i)
		}
		sum += int(c-'0') * prcIDWeights[i]
	}
	return prcIDCheck[sum%11], nil
}

// fakePRCID makes an 18-character resident identity number with a valid
// region, birth date and checksum, so detectors that check the checksum
// fire on it.
func fakePRCID(rng *rand.Rand) string {
	region := prcRegions[rng.IntN(len(prcRegions))]
	year := 1960 + rng.IntN(45)
	month := 1 + rng.IntN(12)
	day := 1 + rng.IntN(28)
	first17 := fmt.Sprintf("%s%04d%02d%02d%03d", region, year, month, day, rng.IntN(1000))
	check, _ := prcIDChecksum(first17) // first17 is digits by construction
	return first17 + string(check)
}

// fakePhone makes a mainland mobile number or a Hong Kong number.
func fakePhone(rng *rand.Rand) string {
	if rng.IntN(2) == 0 {
		return fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1_000_000_000))
	}
	first := "5689"[rng.IntN(4)]
	return fmt.Sprintf("+852 %c%03d %04d", first, rng.IntN(1000), rng.IntN(10000))
}
