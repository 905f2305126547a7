package detect

import "strconv"

// Kind names one built-in detector. The zero Kind is invalid so that a
// zero-valued Detection is never mistaken for a real finding.
type Kind uint8

// The detectors. Their String forms are the CompliancePolicy CRD enum values,
// so the names must never change once released.
const (
	// ChinaResidentID is the 18-digit PRC resident identity number
	// (GB 11643-1999), including HK/Macau/Taiwan residence permits, the 2023
	// foreign permanent resident card and legacy 15-digit numbers.
	ChinaResidentID Kind = iota + 1
	// HongKongID is the Hong Kong identity card number.
	HongKongID
	// TaiwanID is the Taiwan national ID or resident certificate (ARC/UI) number.
	TaiwanID
	// ChinaMobile is a mainland China mobile number.
	ChinaMobile
	// UnionPayCard is a UnionPay (62-prefix) card number.
	UnionPayCard
	// PaymentCard is any other payment card number (Visa, Mastercard, ...).
	PaymentCard
	// IBAN is an international bank account number (ISO 13616).
	IBAN
	// SWIFT is a SWIFT/BIC bank identifier code (ISO 9362).
	SWIFT
	// USCC is the PRC Unified Social Credit Code (GB 32100-2015).
	USCC
	// Email is an e-mail address.
	Email
	// CryptoAddress is a Bitcoin, TRON or Ethereum address.
	CryptoAddress
	// Passport is a passport or travel-permit number (PRC, HK/Macau, Taiwan).
	Passport

	kindEnd // one past the last Kind; keep last
)

var kindNames = [kindEnd]string{
	ChinaResidentID: "ChinaResidentID",
	HongKongID:      "HongKongID",
	TaiwanID:        "TaiwanID",
	ChinaMobile:     "ChinaMobile",
	UnionPayCard:    "UnionPayCard",
	PaymentCard:     "PaymentCard",
	IBAN:            "IBAN",
	SWIFT:           "SWIFT",
	USCC:            "USCC",
	Email:           "Email",
	CryptoAddress:   "CryptoAddress",
	Passport:        "Passport",
}

// String returns the CRD enum name of k, or "Kind(N)" for an invalid value so
// that logs of corrupt data stay readable.
func (k Kind) String() string {
	if k > 0 && k < kindEnd {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Kinds returns every valid Kind in declaration order, for callers that
// build CRD schemas or iterate all detectors.
func Kinds() []Kind {
	ks := make([]Kind, 0, kindEnd-1)
	for k := Kind(1); k < kindEnd; k++ {
		ks = append(ks, k)
	}
	return ks
}

// ParseKind maps a CRD enum name back to its Kind. Matching is exact because
// the API server already enforces the enum's spelling.
func ParseKind(name string) (Kind, bool) {
	for k := Kind(1); k < kindEnd; k++ {
		if kindNames[k] == name {
			return k, true
		}
	}
	return 0, false
}

// Set is a bitset of Kinds, so that a policy's enabled detectors can be
// checked per candidate without a map lookup.
type Set uint32

// All enables every detector.
const All Set = 1<<kindEnd - 2

// SetOf returns the set holding kinds; invalid kinds are ignored.
func SetOf(kinds ...Kind) Set {
	var s Set
	for _, k := range kinds {
		if k > 0 && k < kindEnd {
			s |= 1 << k
		}
	}
	return s
}

// Has reports whether k is in s.
func (s Set) Has(k Kind) bool { return k < kindEnd && s&(1<<k) != 0 }

// hasAny reports whether s shares a kind with t.
func (s Set) hasAny(t Set) bool { return s&t != 0 }
