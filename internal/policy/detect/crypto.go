package detect

import (
	"crypto/sha256"
	"hash"

	"golang.org/x/crypto/sha3"
)

// Crypto addresses, research note §2.8: Bitcoin (Base58Check P2PKH/P2SH,
// SegWit bech32/bech32m), TRON (Base58Check, version 0x41; USDT-TRC20 is
// the usual currency of OTC and fraud chats) and Ethereum/EVM (0x + 40 hex,
// EIP-55 mixed-case checksum).

const b58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// b58Value maps a byte to its Base58 digit, or -1.
var b58Value [256]int8

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32Value maps a byte (either case) to its 5-bit value, or -1.
var bech32Value [256]int8

func init() {
	for i := range b58Value {
		b58Value[i] = -1
		bech32Value[i] = -1
	}
	for i := 0; i < len(b58Alphabet); i++ {
		b58Value[b58Alphabet[i]] = int8(i)
	}
	for i := 0; i < len(bech32Charset); i++ {
		c := bech32Charset[i]
		bech32Value[c] = int8(i)
		bech32Value[upper(c)] = int8(i)
	}
}

// Base58Check version bytes.
const (
	versionP2PKH = 0x00
	versionP2SH  = 0x05
	versionTRON  = 0x41
)

// Crypto subtypes, reported in Detection.Detail.
const (
	detailP2PKH         = "btc-p2pkh"
	detailP2SH          = "btc-p2sh"
	detailBech32        = "btc-bech32"
	detailBech32m       = "btc-bech32m"
	detailTRON          = "tron"
	detailEIP55         = "eth-eip55"
	detailETHNoChecksum = "eth-nochecksum"
)

// base58Decode25 decodes d into out and reports whether it encodes exactly
// 25 bytes (version, 20-byte hash, 4-byte checksum). Leading '1's stand for
// leading zero bytes, so the decoded length is their count plus the minimal
// big-endian length of the number.
func base58Decode25[T ~string | ~[]byte](d T, out *[25]byte) bool {
	ones := 0
	for ones < len(d) && d[ones] == '1' {
		ones++
	}
	// The number in 7 big-endian 32-bit limbs; limb 0 holds the top byte
	// only (25 = 1 + 6*4), so overflow shows as limb 0 exceeding 0xFF.
	var limb [7]uint64
	for i := 0; i < len(d); i++ {
		v := b58Value[d[i]]
		if v < 0 {
			return false
		}
		carry := uint64(v)
		for j := 6; j >= 0; j-- {
			carry += limb[j] * 58
			limb[j] = carry & 0xFFFFFFFF
			carry >>= 32
		}
		if carry != 0 || limb[0] > 0xFF {
			return false
		}
	}
	out[0] = byte(limb[0])
	for j := 1; j < 7; j++ {
		out[4*j-3] = byte(limb[j] >> 24)
		out[4*j-2] = byte(limb[j] >> 16)
		out[4*j-1] = byte(limb[j] >> 8)
		out[4*j] = byte(limb[j])
	}
	zeros := 0
	for zeros < 25 && out[zeros] == 0 {
		zeros++
	}
	return zeros == ones
}

// checkBase58Check reports whether d is a 25-byte Base58Check payload with
// the given version byte: the last 4 bytes must equal the first 4 bytes of
// SHA256(SHA256(version ‖ hash)).
func checkBase58Check[T ~string | ~[]byte](d T, version byte) bool {
	if len(d) < 26 || len(d) > 35 {
		return false
	}
	var p [25]byte
	if !base58Decode25(d, &p) || p[0] != version {
		return false
	}
	h := sha256.Sum256(p[:21])
	h = sha256.Sum256(h[:])
	return h[0] == p[21] && h[1] == p[22] && h[2] == p[23] && h[3] == p[24]
}

// ValidBase58Check reports whether s is a 25-byte Base58Check address
// (Bitcoin P2PKH/P2SH, TRON, ...) whose version byte is version.
func ValidBase58Check(s string, version byte) bool { return checkBase58Check(s, version) }

// bech32Polymod runs the BIP-173 checksum over the expanded hrp "bc" and
// the data values of d (which starts after "bc1").
func bech32Polymod[T ~string | ~[]byte](data T) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	step := func(v uint32) {
		b := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ v
		for i := 0; i < 5; i++ {
			if (b>>i)&1 != 0 {
				chk ^= gen[i]
			}
		}
	}
	// hrp_expand("bc") = high bits of each char, 0, low bits of each char.
	step('b' >> 5)
	step('c' >> 5)
	step(0)
	step('b' & 31)
	step('c' & 31)
	for i := 0; i < len(data); i++ {
		step(uint32(bech32Value[data[i]]))
	}
	return chk
}

const (
	bech32Const  = 1
	bech32mConst = 0x2bc830a3
)

// checkSegwit validates a Bitcoin mainnet SegWit address: hrp "bc", no mixed
// case, checksum bech32 for witness version 0 (program 20 or 32 bytes) and
// bech32m for versions 1-16 (program 2-40 bytes), zero padding of at most 4
// bits.
func checkSegwit[T ~string | ~[]byte](d T) (bool, string) {
	n := len(d)
	if n < 14 || n > 90 || d[2] != '1' {
		return false, ""
	}
	lower := d[0] == 'b' && d[1] == 'c'
	if !lower && (d[0] != 'B' || d[1] != 'C') {
		return false, ""
	}
	for i := 3; i < n; i++ {
		c := d[i]
		if bech32Value[c] < 0 || (lower && c >= 'A' && c <= 'Z') || (!lower && c >= 'a' && c <= 'z') {
			return false, ""
		}
	}
	data := d[3:]
	if len(data) < 7 {
		return false, ""
	}
	res := bech32Polymod(data)
	ver := bech32Value[data[0]]
	prog := data[1 : len(data)-6]
	bits := len(prog) * 5
	plen, pad := bits/8, bits%8
	if pad > 4 || plen < 2 || plen > 40 {
		return false, ""
	}
	if pad > 0 && int(bech32Value[prog[len(prog)-1]])&(1<<pad-1) != 0 {
		return false, ""
	}
	switch {
	case ver == 0 && res == bech32Const && (plen == 20 || plen == 32):
		return true, detailBech32
	case ver >= 1 && ver <= 16 && res == bech32mConst:
		return true, detailBech32m
	}
	return false, ""
}

// ValidBech32 reports whether s is a valid Bitcoin mainnet SegWit address
// (bc1...), bech32 for version 0 and bech32m for Taproot and later.
func ValidBech32(s string) bool {
	ok, _ := checkSegwit(s)
	return ok
}

// ethShape reports whether d is "0x" + 40 hex digits, and whether its
// letters are all one case (no EIP-55 checksum present).
func ethShape[T ~string | ~[]byte](d T) (ok, oneCase bool) {
	if len(d) != 42 || d[0] != '0' || d[1] != 'x' {
		return false, false
	}
	var lo, up bool
	for i := 2; i < 42; i++ {
		switch c := d[i]; {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'f':
			lo = true
		case c >= 'A' && c <= 'F':
			up = true
		default:
			return false, false
		}
	}
	return true, !(lo && up)
}

// eip55OK checks the EIP-55 case checksum of a mixed-case 0x address with
// the legacy Keccak-256 (not SHA3-256) hasher h, reusing buf for the sum: a
// hex letter must be upper case iff its nibble of keccak256(lower-case hex)
// is 8 or more.
func eip55OK[T ~string | ~[]byte](d T, h hash.Hash, buf []byte) bool {
	var low [40]byte
	for i := 0; i < 40; i++ {
		c := d[2+i]
		if c >= 'A' && c <= 'F' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	h.Reset()
	h.Write(low[:])
	sum := h.Sum(buf[:0])
	for i := 0; i < 40; i++ {
		c := d[2+i]
		if c <= '9' {
			continue
		}
		nib := sum[i/2] >> 4
		if i%2 == 1 {
			nib = sum[i/2] & 0x0F
		}
		if (nib >= 8) != (c <= 'F') {
			return false
		}
	}
	return true
}

// ValidEIP55 reports whether s is a 0x-prefixed Ethereum address whose mixed
// letter case carries a correct EIP-55 checksum. All-lower-case and
// all-upper-case addresses carry no checksum and return false; see
// ValidETHAddress.
func ValidEIP55(s string) bool {
	ok, oneCase := ethShape(s)
	if !ok || oneCase {
		return false
	}
	return eip55OK(s, sha3.NewLegacyKeccak256(), make([]byte, 0, 32))
}

// ValidETHAddress reports whether s is a 0x + 40-hex address that is either
// single-case (no checksum) or carries a correct EIP-55 checksum.
func ValidETHAddress(s string) bool {
	ok, oneCase := ethShape(s)
	return ok && (oneCase || ValidEIP55(s))
}

// ValidCryptoAddress reports whether s is a Bitcoin (P2PKH, P2SH, SegWit),
// TRON or Ethereum address by the rules above.
func ValidCryptoAddress(s string) bool {
	if len(s) == 0 {
		return false
	}
	switch {
	case s[0] == '1':
		return checkBase58Check(s, versionP2PKH)
	case s[0] == '3':
		return checkBase58Check(s, versionP2SH)
	case s[0] == 'T':
		return len(s) == 34 && checkBase58Check(s, versionTRON)
	case s[0] == '0':
		return ValidETHAddress(s)
	}
	return ValidBech32(s)
}

// base58Encode encodes b in Base58, keeping leading zero bytes as '1's. It
// is used by the generators only.
func base58Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	// log(256)/log(58) < 1.38, so this many digits always suffice.
	digits := make([]byte, len(b)*138/100+1)
	n := 0
	for _, v := range b[zeros:] {
		carry := int(v)
		for j := 0; j < n; j++ {
			carry += int(digits[j]) << 8
			digits[j] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits[n] = byte(carry % 58)
			n++
			carry /= 58
		}
	}
	out := make([]byte, 0, zeros+n)
	for i := 0; i < zeros; i++ {
		out = append(out, '1')
	}
	for j := n - 1; j >= 0; j-- {
		out = append(out, b58Alphabet[digits[j]])
	}
	return string(out)
}

// base58CheckEncode encodes version ‖ payload with its 4-byte checksum.
func base58CheckEncode(version byte, payload []byte) string {
	b := append([]byte{version}, payload...)
	h := sha256.Sum256(b)
	h = sha256.Sum256(h[:])
	return base58Encode(append(b, h[:4]...))
}

// detectCrypto reports a crypto address in the current word (case kept).
// Base58Check, bech32 and EIP-55 addresses are checksum-validated (75/85).
// A single-case 0x address has no checksum but a shape specific enough to
// report on its own: 65, or 75 with a crypto keyword.
func (s *Scanner) detectCrypto(start, end int) bool {
	v := s.wval
	n := len(v)
	var ok bool
	var detail string
	validated := true
	switch c := v[0]; {
	case n == 42 && c == '0' && v[1] == 'x':
		shape, oneCase := ethShape(v)
		switch {
		case !shape || allSame(v[2:]):
		case oneCase:
			ok, detail, validated = true, detailETHNoChecksum, false
		case eip55OK(v, s.keccak, s.sum[:0]):
			ok, detail = true, detailEIP55
		}
	case n >= 14 && (c == 'b' || c == 'B'):
		ok, detail = checkSegwit(v)
	case c == '1':
		ok, detail = checkBase58Check(v, versionP2PKH), detailP2PKH
	case c == '3':
		ok, detail = checkBase58Check(v, versionP2SH), detailP2SH
	case c == 'T' && n == 34:
		ok, detail = checkBase58Check(v, versionTRON), detailTRON
	}
	if !ok {
		return false
	}
	var conf int
	var ctx bool
	if validated {
		conf, ctx = s.checksumTier(start, end, ctxCrypto)
	} else {
		conf, ctx = 65, s.hasContext(start, end, ctxCrypto)
		if ctx {
			conf = 75
		}
	}
	s.emit(CryptoAddress, start, end, conf, validated, ctx, maskCrypto(v), detail)
	return true
}
