package detect

import (
	"encoding/hex"
	"math/rand/v2"
	"strconv"

	"golang.org/x/crypto/sha3"
)

// Deterministic generators of valid identifiers, for tests, fuzz seeds and
// benchmark corpora (research note §8: make our own fixtures rather than
// vendor real personal data). Each output passes the package's own validator
// for its kind; the property tests hold them to that.

// genRegions are province codes that prcRegion accepts.
var genRegions = [...]string{
	"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
	"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
}

func genDigit(r *rand.Rand) byte { return byte('0' + r.IntN(10)) }

// GenChinaResidentID returns a valid 18-character PRC resident ID with a
// birth date between 1950 and 2005.
func GenChinaResidentID(r *rand.Rand) string {
	var d [18]byte
	reg := genRegions[r.IntN(len(genRegions))]
	d[0], d[1] = reg[0], reg[1]
	for i := 2; i < 6; i++ {
		d[i] = genDigit(r)
	}
	y := 1950 + r.IntN(56)
	m := 1 + r.IntN(12)
	date := strconv.Itoa(y*10000 + m*100 + 1 + r.IntN(daysIn(y, m)))
	copy(d[6:14], date)
	for i := 14; i < 17; i++ {
		d[i] = genDigit(r)
	}
	d[17] = prcCheck(d[:])
	return string(d[:])
}

// GenHKID returns a valid HKID in the bracketed form, A123456(3); one in
// four has a two-letter prefix.
func GenHKID(r *rand.Rand) string {
	body := make([]byte, 0, 11)
	if r.IntN(4) == 0 {
		body = append(body, byte('A'+r.IntN(26)))
	}
	body = append(body, byte('A'+r.IntN(26)))
	for i := 0; i < 6; i++ {
		body = append(body, genDigit(r))
	}
	c := byte('0' + hkidCheck(body))
	if c == '0'+10 {
		c = 'A'
	}
	return string(append(append(append(body, '('), c), ')'))
}

// GenTaiwanID returns a valid Taiwan national ID.
func GenTaiwanID(r *rand.Rand) string {
	var d [10]byte
	d[0] = byte('A' + r.IntN(26))
	d[1] = byte('1' + r.IntN(2))
	for i := 2; i < 9; i++ {
		d[i] = genDigit(r)
	}
	for c := byte('0'); c <= '9'; c++ {
		d[9] = c
		if ok, _ := checkTWID(d[:]); ok {
			break
		}
	}
	return string(d[:])
}

// GenUSCC returns a valid Unified Social Credit Code whose embedded
// organisation code also carries a valid check character.
func GenUSCC(r *rand.Rand) string {
	var d [18]byte
	d[0] = "159Y"[r.IntN(4)]
	d[1] = "123"[r.IntN(3)]
	reg := genRegions[r.IntN(len(genRegions))]
	d[2], d[3] = reg[0], reg[1]
	for i := 4; i < 8; i++ {
		d[i] = genDigit(r)
	}
	for i := 8; i < 16; i++ {
		d[i] = usccAlphabet[r.IntN(len(usccAlphabet))]
	}
	for _, c := range []byte("0123456789X") {
		d[16] = c
		if usccInner(d[:]) {
			break
		}
	}
	s := 0
	for i := 0; i < 17; i++ {
		s += int(usccValue[d[i]]) * usccWeights[i]
	}
	d[17] = usccAlphabet[(31-s%31)%31]
	return string(d[:])
}

// GenCard returns a Luhn-valid card number of the given length starting
// with prefix (which must be digits and shorter than length).
func GenCard(r *rand.Rand, prefix string, length int) string {
	d := make([]byte, length)
	copy(d, prefix)
	for i := len(prefix); i < length-1; i++ {
		d[i] = genDigit(r)
	}
	for c := byte('0'); c <= '9'; c++ {
		d[length-1] = c
		if luhn(d) {
			break
		}
	}
	return string(d)
}

// GenIBAN returns a valid British IBAN (GBkk BANK ssssss aaaaaaaa).
func GenIBAN(r *rand.Rand) string {
	d := []byte("GB00")
	for i := 0; i < 4; i++ {
		d = append(d, byte('A'+r.IntN(26)))
	}
	for i := 0; i < 14; i++ {
		d = append(d, genDigit(r))
	}
	for cd := 2; cd <= 98; cd++ {
		d[2], d[3] = byte('0'+cd/10), byte('0'+cd%10)
		if checkIBAN(d) {
			break
		}
	}
	return string(d)
}

// mobilePrefixes are the three-digit prefixes checkMobile accepts (the
// 1740 satellite block aside).
var mobilePrefixes = func() []string {
	var ps []string
	for p := 100; p < 200; p++ {
		s := strconv.Itoa(p)
		if checkMobile(s+"00000000") && checkMobile(s+"99999999") {
			ps = append(ps, s)
		}
	}
	return ps
}()

// GenChinaMobile returns a valid 11-digit mainland mobile number.
func GenChinaMobile(r *rand.Rand) string {
	d := []byte(mobilePrefixes[r.IntN(len(mobilePrefixes))])
	for i := 0; i < 8; i++ {
		d = append(d, genDigit(r))
	}
	return string(d)
}

func genHash160(r *rand.Rand) []byte {
	b := make([]byte, 20)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// GenTRON returns a valid TRON address (Base58Check, version 0x41).
func GenTRON(r *rand.Rand) string { return base58CheckEncode(versionTRON, genHash160(r)) }

// GenBTC returns a valid Bitcoin P2PKH address (Base58Check, version 0x00).
func GenBTC(r *rand.Rand) string { return base58CheckEncode(versionP2PKH, genHash160(r)) }

// GenETH returns a valid Ethereum address in EIP-55 mixed case.
func GenETH(r *rand.Rand) string {
	for {
		low := []byte(hex.EncodeToString(genHash160(r)))
		h := sha3.NewLegacyKeccak256()
		h.Write(low)
		sum := h.Sum(nil)
		lo, up := false, false
		for i, c := range low {
			if c < 'a' {
				continue
			}
			nib := sum[i/2] >> 4
			if i%2 == 1 {
				nib = sum[i/2] & 0x0F
			}
			if nib >= 8 {
				low[i] = c - 'a' + 'A'
				up = true
			} else {
				lo = true
			}
		}
		// A single-case result carries no checksum; draw again so the
		// output is a real EIP-55 address.
		if lo && up {
			return "0x" + string(low)
		}
	}
}
