package detect

import (
	"hash"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/sha3"
)

// Detection is one sensitive identifier found in a text.
type Detection struct {
	// Kind is the detector that fired.
	Kind Kind
	// Start and End are byte offsets into the original text (End exclusive),
	// on rune boundaries, covering the value as written: full-width digits,
	// Chinese numerals, internal separators, HKID brackets and a +86 prefix
	// included.
	Start, End int
	// Confidence is 0-100 on Purview's tiers: 85 for a checksum match with a
	// context keyword, 75 for a checksum match alone or a checksum-less match
	// whose required keyword was found, 65 for a weaker pattern (see doc.go).
	Confidence int
	// Validated reports that a checksum or structural validator passed.
	Validated bool
	// Context reports that a context keyword was found within 300 characters
	// before or after the value.
	Context bool
	// Evidence is the masked normalized value; never the raw value.
	Evidence string
	// Detail is a short machine-readable subtype: the ID variant
	// ("resident-id", "resident-permit-hk", "legacy-15", "tw-arc", ...), the
	// card network ("visa", "unionpay", or "unverified" for a 65 match),
	// the IBAN country ("GB"), "bic8"/"bic11", the address type
	// ("btc-bech32m", "tron", "eth-eip55", "eth-nochecksum"), the document
	// ("prc-passport", "hk-macau-permit", ...), or for e-mail "personal" at
	// a consumer provider and "" otherwise.
	Detail string
}

// Scanner finds detections in texts. It keeps buffers between calls so that
// steady-state scanning does not allocate; it is not safe for concurrent use
// (use one per goroutine, or a sync.Pool).
type Scanner struct {
	text    string
	enabled Set
	out     []Detection

	// wantDigits/wantWords/wantEmail gate the candidate classes by the kinds
	// enabled for this call, so disabled detectors cost nothing.
	wantDigits, wantWords, wantEmail bool

	// Candidates collected by the first pass, in text order. Their folded
	// units live in arenas: for digit runs the values in av, unit start and
	// end offsets in ap/ae and groups in ag; for words wav and wap.
	cands []cand
	av    []byte
	ap    []int32
	ae    []int32
	ag    []group
	wav   []byte  // words: folded units then their upper-case forms
	wap   []int32 // words: unit starts then the word's end

	// The candidate being dispatched, as views into the arenas. A digit run
	// has dval (folded digits, a final 'X'), the byte span of each unit in
	// dpos/dend, and its groups; a word has wval (case kept), wup (upper
	// case) and the start of each unit with the word's end appended in wpos.
	dval       []byte
	dpos, dend []int32
	groups     []group
	segs       []seg
	wval, wup  []byte
	wpos       []int32

	// Context keyword hits collected so far, sorted by start.
	hits []kwHit

	// consumed is the end of the last detection that extended past its
	// candidate; unitLimit and hitLimit trigger flush (see flush).
	consumed            int
	unitLimit, hitLimit int
	// baseUnits and baseHits are the initial limits (flushUnits, flushHits;
	// tests lower them to exercise flushing).
	baseUnits, baseHits int

	// today is the yyyymmdd date bound for birth dates, computed at most
	// once per Scan and only when an 18-digit candidate shows up.
	today int
	now   func() time.Time

	keccak hash.Hash
	sum    [32]byte
	tmp    [40]byte

	// domains caches e-mail domain verdicts across calls (see email.go).
	domains    [domainCacheSize]domainVerdict
	domainNext int
}

// Candidate types.
const (
	candRun   = iota // digit run
	candWord         // Latin alphanumeric word
	candEmail        // an '@'
)

// cand is one candidate from the collection pass.
type cand struct {
	typ        uint8
	start, end int32 // byte span; for candEmail the '@' (end-start is its size)
	vlo, vhi   int32 // units in av, ap, ae (runs) or wav (words)
	glo, ghi   int32 // groups in ag (runs) or unit starts in wap (words)
	plus       int32 // offset of a '+' before a run, or -1
	nlow       int32 // lower-case letters in a word
}

// group is a run of same-class digit units within a digit run.
type group struct {
	lo, hi int  // unit range in dval
	sep    byte // separator before the group: ' ', '-', '.', or 0 at a start or class change
	han    bool // Chinese numerals
}

// seg is a span of consecutive groups that a space or a class change
// separates from its neighbours: the unit range [lo, hi) and the group
// range [g0, g1).
type seg struct {
	lo, hi, g0, g1 int
}

// A span cut out of a longer run can only be a mobile number (11, 13 or 15
// digits with the country code), a card (12-19) or an 18-digit ID or USCC:
// the checksum-less shapes need whole runs. Bounding spans to these lengths
// keeps the search over long space-separated lists cheap; no identifier has
// a group of more than maxSpanDigits digits either.
const (
	minSpanDigits = 11
	maxSpanDigits = 19
)

// Kinds fed by each candidate class.
var (
	digitKinds = SetOf(ChinaResidentID, ChinaMobile, UnionPayCard, PaymentCard, USCC, Passport)
	wordKinds  = SetOf(HongKongID, TaiwanID, USCC, IBAN, SWIFT, CryptoAddress, Passport)
)

// NewScanner returns a Scanner with its reusable buffers.
func NewScanner() *Scanner {
	return &Scanner{
		now:       time.Now,
		baseUnits: flushUnits,
		baseHits:  flushHits,
		keccak:    sha3.NewLegacyKeccak256(),
		cands:     make([]cand, 0, 16),
		av:        make([]byte, 0, 256),
		ap:        make([]int32, 0, 256),
		ae:        make([]int32, 0, 256),
		ag:        make([]group, 0, 32),
		wav:       make([]byte, 0, 256),
		wap:       make([]int32, 0, 128),
		segs:      make([]seg, 0, 16),
		hits:      make([]kwHit, 0, 32),
	}
}

// Scan appends the detections of the enabled kinds found in text to out, in
// order of Start, and returns it.
//
// The first pass walks the text once, skipping bytes that cannot start a
// candidate (CJK text costs one table load per character, and the same load
// finds context keywords). It collects candidates — digit runs, Latin
// alphanumeric words, '@' signs — and keyword hits. The second pass hands
// each candidate to the validators that fit its shape and length, with every
// keyword of the text already known, so context in either direction is a
// binary search.
func (s *Scanner) Scan(text string, enabled Set, out []Detection) []Detection {
	enabled &= All
	if enabled == 0 || len(text) == 0 {
		return out
	}
	if len(text) > 1<<31-1 {
		// Offsets are stored as int32; messages are far smaller. Scan the
		// first 2 GiB rather than corrupt offsets.
		text = text[:1<<31-1]
	}
	s.text, s.enabled, s.out = text, enabled, out
	s.wantDigits = enabled.hasAny(digitKinds)
	s.wantWords = enabled.hasAny(wordKinds)
	s.wantEmail = enabled.Has(Email)
	s.cands, s.av, s.ap, s.ae, s.ag = s.cands[:0], s.av[:0], s.ap[:0], s.ae[:0], s.ag[:0]
	s.wav, s.wap = s.wav[:0], s.wap[:0]
	s.hits, s.today, s.consumed = s.hits[:0], 0, 0
	s.unitLimit, s.hitLimit = s.baseUnits, s.baseHits
	base := len(out)

	s.collect()
	s.dispatch(s.cands)
	s.out = sortDetections(s.out, base)
	out, s.out, s.text = s.out, nil, ""
	return out
}

// collect is the first pass.
func (s *Scanner) collect() {
	text := s.text
	n := len(text)
	for i := 0; i < n; {
		c := text[i]
		if c < 0x80 {
			if asciiInc[c] == 0 {
				if c == '@' && s.wantEmail {
					s.cands = append(s.cands, cand{typ: candEmail, start: int32(i), end: int32(i + 1)})
				}
				i++
				continue
			}
			// A Latin word: match keywords at its start, then measure it with
			// one add per byte (English prose is mostly this loop).
			j, acc, lim := i, uint64(0), min(n, i+incMaxRun)
			for j < lim {
				inc := asciiInc[text[j]]
				if inc == 0 {
					break
				}
				acc += inc
				j++
			}
			units := j - i
			if c > '9' && i+2 < n && kwFirstWordLen[c|0x20-'a']&(1<<min(units, 63)) != 0 && latinKeywordAt(c, text[i+1], text[i+2]) {
				s.matchLatin(i)
			}
			if j < n && (units == incMaxRun || text[j] == 0xEF || text[j] == 0xE2) {
				i = s.latinToken(i) // full-width or circled forms may continue the word
				if s.needFlush() {
					s.flush(i)
				}
				continue
			}
			nd := int(acc & incMask)
			if nd == 0 && units < 26 && units != 8 && units != 11 {
				// Prose: a word of letters can only be a BIC (8 or 11
				// capitals) or a crypto address (26+).
				i = j
				continue
			}
			i = s.latinWord(i, j, units, nd, int(acc>>20&incMask), int(acc>>40), text[j-1])
			if s.needFlush() {
				s.flush(i)
			}
			continue
		}
		// CJK ideographs: the common case in Chinese text. A Chinese numeral
		// may start a digit run; a keyword's first character is matched.
		// Runs of other ideographs are skipped by the tight inner loop.
		if c >= 0xE4 && c <= 0xE9 {
			var v uint8
			for i+2 < n {
				c0, b1, b2 := text[i], text[i+1], text[i+2]
				if c0-0xE4 > 0xE9-0xE4 || (b1^0x80|b2^0x80)&0xC0 != 0 {
					break
				}
				v = hanTab[int(c0&0x0F)<<12|int(b1&0x3F)<<6|int(b2&0x3F)-hanBase]
				if v != 0 {
					break
				}
				i += 3
			}
			switch {
			case v == 0:
				// Left the ideographs; an invalid sequence steps one byte,
				// as Go's own decoding does.
				if i < n && text[i] >= 0xE4 && text[i] <= 0xE9 {
					i++
				}
			case v > hanDigitMax:
				s.matchHan(i, v-hanBucket0)
				i += 3
				if len(s.hits) > s.hitLimit {
					s.flush(i)
				}
			case s.wantDigits && s.runMayContinue(i+3):
				// A lone numeral (一下, 一起) is not worth a run.
				i = s.digitRun(i)
				if s.needFlush() {
					s.flush(i)
				}
			default:
				i += 3
			}
			continue
		}
		if c != 0xE2 && c != 0xE3 && c != 0xEF {
			// Other scripts and emoji (rare here), or invalid bytes, which
			// count one byte each as in Go's own decoding.
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			continue
		}
		// CJK punctuation (，。、！：“”) is frequent; only circled digits
		// (E2 91), 〇 (E3 80 87) and full-width letters, digits and ＠ (EF BC,
		// EF BD) matter here.
		if i+2 < n && (text[i+1]^0x80|text[i+2]^0x80)&0xC0 == 0 {
			b1, b2 := text[i+1], text[i+2]
			if (c == 0xE2 && b1 != 0x91) || (c == 0xE3 && (b1 != 0x80 || b2 != 0x87)) ||
				(c == 0xEF && b1 != 0xBC && b1 != 0xBD) {
				i += 3
				continue
			}
		}
		cls, _, size := unitAt(text, i)
		switch cls {
		case uDigit, uUpper, uLower:
			i = s.latinToken(i)
			if s.needFlush() {
				s.flush(i)
			}
			continue
		case uHan:
			if s.wantDigits {
				i = s.digitRun(i)
				if s.needFlush() {
					s.flush(i)
				}
				continue
			}
		}
		if s.wantEmail && size == 3 && text[i:i+3] == "＠" {
			s.cands = append(s.cands, cand{typ: candEmail, start: int32(i), end: int32(i + 3)})
		}
		i += size
	}
}

// dispatch is the second pass over cands. A detection that extends past its
// candidate (HKID brackets, a printed IBAN) consumes the candidates it
// covers, such as the digit groups of "GB82 WEST 1234 5698 7654 32".
func (s *Scanner) dispatch(cands []cand) {
	for k := range cands {
		c := cands[k]
		if int(c.start) < s.consumed {
			continue
		}
		switch c.typ {
		case candRun:
			s.dval, s.dpos, s.dend = s.av[c.vlo:c.vhi], s.ap[c.vlo:c.vhi], s.ae[c.vlo:c.vhi]
			s.groups = s.ag[c.glo:c.ghi]
			s.dispatchRun(int(c.plus))
		case candWord:
			n := (c.vhi - c.vlo) / 2
			s.wval, s.wup = s.wav[c.vlo:c.vlo+n], s.wav[c.vlo+n:c.vhi]
			s.wpos = s.wap[c.glo:c.ghi]
			s.consumed = max(s.consumed, s.dispatchWord(int(c.start), int(c.end), int(c.nlow)))
		case candEmail:
			s.detectEmail(int(c.start), int(c.end-c.start))
		}
	}
}

// Memory bounds. Candidates and keyword hits are kept until the collection
// pass is far enough past them that their context is complete; on a chat
// message that is the whole message, but an attachment's extracted text can
// be megabytes of numbers. Past these sizes, flush dispatches the
// candidates whose context windows have been fully collected and drops
// what no remaining candidate can reach, so memory stays bounded whatever
// the text's length.
const (
	flushUnits = 1 << 18 // arena units (digits and word characters)
	flushHits  = 1 << 15 // keyword hits
	// maxRunUnits caps one digit run; longer lists of numbers are cut at a
	// group boundary into several runs.
	maxRunUnits = 1 << 16
	// flushMargin is how far past a candidate's end the collection pass
	// must be before the candidate can be dispatched: the longest extension
	// of a detection past its candidate (an e-mail domain), the context
	// window, and the longest keyword.
	flushMargin = utf8.UTFMax*maxDomain + ctxWindowBytes + maxKeywordBytes
	// maxKeywordBytes bounds kwIndex.maxLen (checked at init).
	maxKeywordBytes = 64
)

// needFlush reports whether the buffers have passed their limits.
func (s *Scanner) needFlush() bool {
	return len(s.av)+len(s.wav) > s.unitLimit || len(s.hits) > s.hitLimit
}

// flush dispatches the candidates that the collection pass, now at pos, is
// at least flushMargin past, compacts the arenas, and drops keyword hits
// that neither the remaining candidates nor later ones can reach. The
// limits then double if little could be freed (one huge pending run), so
// flushing never goes quadratic.
func (s *Scanner) flush(pos int) {
	k := 0
	for k < len(s.cands) && int(s.cands[k].end)+flushMargin <= pos {
		k++
	}
	if k > 0 {
		s.dispatch(s.cands[:k])
		rest := s.cands[k:]
		rv, rg, wv, wp := int32(len(s.av)), int32(len(s.ag)), int32(len(s.wav)), int32(len(s.wap))
		for _, c := range rest {
			if c.typ == candRun {
				rv, rg = min(rv, c.vlo), min(rg, c.glo)
			} else if c.typ == candWord {
				wv, wp = min(wv, c.vlo), min(wp, c.glo)
			}
		}
		s.av, s.ap, s.ae = s.av[:copy(s.av, s.av[rv:])], s.ap[:copy(s.ap, s.ap[rv:])], s.ae[:copy(s.ae, s.ae[rv:])]
		s.ag = s.ag[:copy(s.ag, s.ag[rg:])]
		s.wav, s.wap = s.wav[:copy(s.wav, s.wav[wv:])], s.wap[:copy(s.wap, s.wap[wp:])]
		for i := range rest {
			c := &rest[i]
			if c.typ == candRun {
				c.vlo, c.vhi, c.glo, c.ghi = c.vlo-rv, c.vhi-rv, c.glo-rg, c.ghi-rg
			} else if c.typ == candWord {
				c.vlo, c.vhi, c.glo, c.ghi = c.vlo-wv, c.vhi-wv, c.glo-wp, c.ghi-wp
			}
		}
		s.cands = s.cands[:copy(s.cands, rest)]
	}
	keep := pos
	if len(s.cands) > 0 {
		keep = int(s.cands[0].start)
	}
	keep -= ctxWindowBytes + maxKeywordBytes + maxLocal
	h := 0
	for h < len(s.hits) && int(s.hits[h].start) < keep {
		h++
	}
	s.hits = s.hits[:copy(s.hits, s.hits[h:])]
	s.unitLimit = max(s.baseUnits, 2*(len(s.av)+len(s.wav)))
	s.hitLimit = max(s.baseHits, 2*len(s.hits))
}

// sortDetections orders out[base:] by Start, then End. Candidates are found
// left to right, so this is nearly sorted already; an e-mail address is the
// exception, found at its '@' after the digits of its local part.
func sortDetections(out []Detection, base int) []Detection {
	for i := base + 1; i < len(out); i++ {
		for j := i; j > base && (out[j].Start < out[j-1].Start ||
			(out[j].Start == out[j-1].Start && out[j].End < out[j-1].End)); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// todayDate returns the birth-date upper bound for this Scan.
func (s *Scanner) todayDate() int {
	if s.today == 0 {
		s.today = todayInt(s.now())
	}
	return s.today
}

// emit appends a detection.
func (s *Scanner) emit(k Kind, start, end, conf int, validated, ctx bool, evidence, detail string) {
	s.out = append(s.out, Detection{
		Kind: k, Start: start, End: end, Confidence: conf,
		Validated: validated, Context: ctx, Evidence: evidence, Detail: detail,
	})
}

// checksumTier scores a value whose checksum passed: 85 with a context
// keyword of group g, else 75.
func (s *Scanner) checksumTier(start, end int, g ctxGroup) (int, bool) {
	if s.hasContext(start, end, g) {
		return 85, true
	}
	return 75, false
}

// scanLatin measures the Latin word at i: ASCII or full-width letters and
// digits and circled digits, without separators. It returns the end, the
// number of units, digits, letters and lower-case letters, and the folded
// value of the last unit.
func (s *Scanner) scanLatin(i int) (end, units, nd, nl, nlow int, last byte) {
	text := s.text
	j := i
	// ASCII fast path: count classes without branching on them.
	var cnt [8]int
	for j < len(text) {
		c := text[j]
		if c >= 0x80 {
			break
		}
		cls := asciiUnit[c]
		if cls < uDigit || cls > uLower || cls == uHan {
			end = j
			units = j - i
			nd, nl, nlow = cnt[uDigit], cnt[uUpper]+cnt[uLower], cnt[uLower]
			if j > i {
				last = text[j-1]
			}
			return end, units, nd, nl, nlow, last
		}
		cnt[cls]++
		j++
	}
	units = j - i
	nd, nl, nlow = cnt[uDigit], cnt[uUpper]+cnt[uLower], cnt[uLower]
	if j > i {
		last = text[j-1]
	}
	// Full-width and circled forms, rare: the general loop.
	for j < len(text) {
		c := text[j]
		var cls, val uint8
		size := 1
		if c < 0x80 {
			cls, val = asciiUnit[c], c
		} else if c == 0xEF || c == 0xE2 {
			cls, val, size = unitAt(text, j)
		} else {
			break
		}
		switch cls {
		case uDigit:
			nd++
		case uUpper:
			nl++
		case uLower:
			nl++
			nlow++
		default:
			return j, units, nd, nl, nlow, last
		}
		last = val
		units++
		j += size
	}
	return j, units, nd, nl, nlow, last
}

// latinToken handles the Latin word at i and returns where scanning resumes.
// A word of digits (or 17 digits and a final X) may continue as a digit run
// across separators; any other word is a single alphanumeric candidate.
// Most English words are rejected here on length and digit count alone,
// without being copied.
func (s *Scanner) latinToken(i int) int {
	end, units, nd, nl, nlow, last := s.scanLatin(i)
	return s.latinWord(i, end, units, nd, nl, nlow, last)
}

// latinWord decides what the measured Latin word text[i:end] is: the start
// of a digit run, an alphanumeric candidate, or nothing. It returns where
// scanning resumes.
func (s *Scanner) latinWord(i, end, units, nd, nl, nlow int, last byte) int {
	if nl == 0 || (nl == 1 && nd == 17 && (last == 'X' || last == 'x')) {
		// Most numbers in chat (prices, times, counts) are short and end
		// the run right away; they are not worth collecting.
		if s.wantDigits && (units >= minRunDigits || s.runMayContinue(end)) {
			return s.digitRun(i)
		}
		return end
	}
	// Four characters LLDD may open a printed IBAN ("GB82 WEST ...").
	ibanHead := units == 4 && nd == 2 && s.enabled.Has(IBAN)
	if !s.wantWords || (units < 7 && !ibanHead) || units > 90 {
		return end
	}
	// Words without digits can only be a BIC (8 or 11 capitals) or a
	// crypto address that happens to have no digit.
	if nd == 0 && !((units == 8 || units == 11) && nlow == 0) && units < 26 {
		return end
	}
	vlo, plo := len(s.wav), len(s.wap)
	if end-i == units { // ASCII
		s.wav = append(s.wav, s.text[i:end]...)
		for j := i; j < end; j++ {
			s.wap = append(s.wap, int32(j))
		}
	} else {
		for j := i; j < end; {
			_, val, size := unitAt(s.text, j)
			s.wav = append(s.wav, val)
			s.wap = append(s.wap, int32(j))
			j += size
		}
	}
	for k := vlo; k < vlo+units; k++ {
		s.wav = append(s.wav, upper(s.wav[k]))
	}
	s.wap = append(s.wap, int32(end))
	s.cands = append(s.cands, cand{typ: candWord, start: int32(i), end: int32(end),
		vlo: int32(vlo), vhi: int32(len(s.wav)), glo: int32(plo), ghi: int32(len(s.wap)), nlow: int32(nlow)})
	return end
}

// dispatchWord sends the Latin word text[start:end] (already folded into
// wval/wup) to the detectors whose shape it has. It returns the end of the
// detection when one extends past the word (HKID brackets, spaced IBAN).
func (s *Scanner) dispatchWord(start, end, nlow int) int {
	en := s.enabled
	if en.Has(HongKongID) {
		if ok, e := s.detectHKID(start, end); ok {
			return e
		}
	}
	if en.Has(TaiwanID) && s.detectTWID(start, end) {
		return end
	}
	if en.Has(USCC) && len(s.wup) == 18 && s.detectUSCC(s.wup, start, end, true) {
		return end
	}
	if en.Has(IBAN) {
		if ok, e := s.detectIBAN(start, end); ok {
			return e
		}
	}
	if en.Has(SWIFT) && nlow == 0 && s.detectBIC(start, end) {
		return end
	}
	if en.Has(CryptoAddress) && s.detectCrypto(start, end) {
		return end
	}
	if en.Has(Passport) && s.detectPassportWord(start, end) {
		return end
	}
	return end
}

// push appends one digit unit to the current run.
func (s *Scanner) push(v byte, start, end int) {
	s.av = append(s.av, v)
	s.ap = append(s.ap, int32(start))
	s.ae = append(s.ae, int32(end))
}

// asciiDigitsEnd returns the end of the ASCII digits starting at text[i].
func asciiDigitsEnd(text string, i int) int {
	for i < len(text) && text[i]-'0' < 10 {
		i++
	}
	return i
}

// maybeLatin reports whether a byte may begin a Latin letter or digit unit:
// an ASCII letter or digit, or the lead byte of a full-width or circled form.
func maybeLatin(c byte) bool { return asciiInc[c] != 0 || c == 0xEF || c == 0xE2 }

// minRunDigits is the shortest digit run any detector accepts (台胞证).
const minRunDigits = 8

// runMayContinue reports whether a digit run could go on at text[i]: a
// digit, a Chinese numeral, or a separator followed by either. It is a cheap
// filter; digitRun makes the exact decision.
func (s *Scanner) runMayContinue(i int) bool {
	text := s.text
	if i >= len(text) {
		return false
	}
	cls, _, size := unitAt(text, i)
	if cls == uSep {
		if i+size >= len(text) {
			return false
		}
		cls, _, _ = unitAt(text, i+size)
	}
	return cls == uDigit || cls == uHan
}

// digitRun collects the maximal digit run starting at i: groups of Latin
// digits or of Chinese numerals, adjacent (a class change) or joined by a
// single separator that is the same throughout the run. A Latin group that
// is glued to letters ends the run before it, except for the final X of an
// 18-character PRC ID. Runs long enough for a detector become candidates.
// It returns the run's end.
func (s *Scanner) digitRun(i int) int {
	text := s.text
	vlo, glo := len(s.av), len(s.ag)
	var runSep, sepBefore byte
	pos, lastEnd := i, i
	for {
		cls, _, _ := unitAt(text, pos)
		g := group{lo: len(s.av) - vlo, sep: sepBefore, han: cls == uHan}
		// A group of more digits than any identifier has belongs to no
		// candidate; it is consumed without being stored (long).
		ended, long := false, false
		if g.han {
			for k := 0; pos < len(text); k++ {
				c, v, size := unitAt(text, pos)
				if c != uHan {
					break
				}
				if long = k >= maxSpanDigits; !long {
					s.push(v, pos, pos+size)
				}
				pos += size
			}
		} else if j := asciiDigitsEnd(text, pos); j > pos && (j == len(text) || !maybeLatin(text[j])) {
			// Plain ASCII digits, the common case.
			if long = j-pos > maxSpanDigits; long {
				pos = j
			}
			for ; pos < j; pos++ {
				s.push(text[pos], pos, pos+1)
			}
		} else {
			end, _, nd, nl, _, last := s.scanLatin(pos)
			x := nl == 1 && (last == 'X' || last == 'x') && len(s.av)-vlo+nd == 17
			if nl > 0 && !x {
				break // glued to letters: that word is a separate candidate
			}
			if long = nd > maxSpanDigits; long {
				pos = end
			}
			for pos < end {
				c, v, size := unitAt(text, pos)
				if c != uDigit {
					v = 'X'
				}
				s.push(v, pos, pos+size)
				pos += size
			}
			ended = x // the check character ends an ID
		}
		g.hi = len(s.av) - vlo
		if long {
			// The long group ends the run before it; if it is the first,
			// the scan resumes after it.
			s.av, s.ap, s.ae = s.av[:vlo+g.lo], s.ap[:vlo+g.lo], s.ae[:vlo+g.lo]
			if len(s.ag) == glo {
				lastEnd = pos
			}
			break
		}
		s.ag = append(s.ag, g)
		lastEnd = pos
		if ended || pos >= len(text) || len(s.av)-vlo >= maxRunUnits {
			break
		}
		c, v, size := unitAt(text, pos)
		if (c == uHan && !g.han) || (c == uDigit && g.han) {
			sepBefore = 0
			continue
		}
		if c == uSep && pos+size < len(text) && (runSep == 0 || runSep == v || s.countryCodeFirst(vlo, glo)) {
			if c2, _, _ := unitAt(text, pos+size); c2 == uHan || c2 == uDigit {
				runSep, sepBefore = v, v
				pos += size
				continue
			}
		}
		break
	}
	if len(s.av)-vlo >= minRunDigits {
		s.cands = append(s.cands, cand{typ: candRun, start: int32(i), end: int32(lastEnd),
			vlo: int32(vlo), vhi: int32(len(s.av)), glo: int32(glo), ghi: int32(len(s.ag)),
			plus: int32(s.plusBefore(i))})
	} else {
		s.av, s.ap, s.ae, s.ag = s.av[:vlo], s.ap[:vlo], s.ae[:vlo], s.ag[:glo]
	}
	if lastEnd <= i {
		// Unreachable by the callers' contract; never stall the scan.
		_, _, size := unitAt(text, i)
		return i + size
	}
	return lastEnd
}

// countryCodeFirst reports whether the run being collected (from unit vlo,
// group glo) is a country code 86 or 0086 and one more group: "+86
// 139-0013-9000" changes separator after the country code, and that must not
// split the number.
func (s *Scanner) countryCodeFirst(vlo, glo int) bool {
	if len(s.ag)-glo != 2 || s.ag[glo].han {
		return false
	}
	cc := s.av[vlo+s.ag[glo].lo : vlo+s.ag[glo].hi]
	return string(cc) == "86" || string(cc) == "0086"
}

// plusBefore returns the offset of a '+' (or full-width '＋') immediately
// before i, or -1: an international prefix decides whether a number can be
// a Chinese mobile at all.
func (s *Scanner) plusBefore(i int) int {
	switch {
	case i >= 1 && s.text[i-1] == '+':
		return i - 1
	case i >= 3 && s.text[i-3:i] == "＋":
		return i - 3
	}
	return -1
}

// dispatchRun tries the whole run (plus is the offset of a '+' before it,
// or -1) as one candidate and, failing that, the
// spans made of consecutive segments, where segments are split at spaces
// and at Latin/Chinese-numeral class changes: "13800138000 13900139000" is
// two numbers, and so is "电话13800138000一直打不通" (一 is a numeral).
// Hyphen and dot joins never split, so "0.13800138000" stays a decimal.
func (s *Scanner) dispatchRun(plus int) {
	n := len(s.dval)
	if s.dispatchDigits(0, n, 0, len(s.groups), true, plus) || len(s.groups) < 2 || allSame(s.dval) {
		return // every span of an all-same run is a placeholder too
	}
	s.segs = s.segs[:0]
	for k, g := range s.groups {
		if k > 0 && g.sep != ' ' && g.sep != 0 {
			last := &s.segs[len(s.segs)-1]
			last.hi, last.g1 = g.hi, k+1
			continue
		}
		s.segs = append(s.segs, seg{g.lo, g.hi, k, k + 1})
	}
	if len(s.segs) < 2 {
		return
	}
	segs := s.segs
	for a := 0; a < len(segs); {
		b := a
		for b+1 < len(segs) && segs[b+1].hi-segs[a].lo <= maxSpanDigits {
			b++
		}
		found := false
		for ; b >= a; b-- {
			if a == 0 && b == len(segs)-1 {
				continue // the whole run, already tried
			}
			lo, hi := segs[a].lo, segs[b].hi
			if hi-lo < minSpanDigits {
				break
			}
			p := -1
			if a == 0 {
				p = plus
			}
			if s.dispatchDigits(lo, hi, segs[a].g0, segs[b].g1, false, p) {
				found = true
				break
			}
		}
		if found {
			a = b + 1
		} else {
			a++
		}
	}
}

// plainDigits reports whether groups [g0, g1) are one unseparated group of
// Latin digits: detectors without a checksum accept nothing looser, because
// dates, decimals and Chinese numerals in prose would otherwise feed them.
func (s *Scanner) plainDigits(g0, g1 int) bool {
	return g1-g0 == 1 && !s.groups[g0].han
}

// dispatchDigits sends units [lo, hi) (groups [g0, g1)) of the current run
// to the detectors for its length. whole is false for a span cut out of a
// longer run; the checksum-less and "possible" tiers accept only whole runs.
// plus is the offset of a preceding '+' or -1. It reports whether a
// detection was made.
func (s *Scanner) dispatchDigits(lo, hi, g0, g1 int, whole bool, plus int) bool {
	d := s.dval[lo:hi]
	n := len(d)
	if n < 8 || n > 19 || allSame(d) {
		return false // placeholders such as 00000000 identify no one
	}
	start, end := int(s.dpos[lo]), int(s.dend[hi-1])
	en := s.enabled
	if plus >= 0 {
		// An international number: ours only if it is +86 and a mobile.
		return en.Has(ChinaMobile) && s.detectMobile(d, plus, end, true)
	}
	if d[n-1] == 'X' {
		if n != 18 {
			return false
		}
		return (en.Has(ChinaResidentID) && s.detectPRC18(d, start, end)) ||
			(en.Has(USCC) && s.detectUSCC(d, start, end, whole))
	}
	switch n {
	case 18:
		if en.Has(ChinaResidentID) && s.detectPRC18(d, start, end) {
			return true
		}
		// An all-digit USCC is rare; an 18-digit UnionPay card is not, and
		// one in 341 passes both USCC checks. Such a number is a USCC only
		// next to a USCC keyword, and never a "possible" (65) one.
		cardLike := cardNetwork(d) != "" && luhn(d)
		if en.Has(USCC) && (!cardLike || s.hasContext(start, end, ctxUSCC)) && s.detectUSCC(d, start, end, whole && !cardLike) {
			return true
		}
	case 15:
		if en.Has(ChinaMobile) && s.detectMobile(d, start, end, false) {
			return true
		}
		if en.Has(ChinaResidentID) && whole && s.plainDigits(g0, g1) && s.detectPRC15(d, start, end) {
			return true
		}
	case 11, 13:
		if en.Has(ChinaMobile) && s.detectMobile(d, start, end, false) {
			return true
		}
	case 8, 9, 10:
		if en.Has(Passport) && whole && s.plainDigits(g0, g1) {
			return s.detectPassportDigits(d, start, end)
		}
		return false
	}
	if n >= 12 && (en.Has(PaymentCard) || en.Has(UnionPayCard)) {
		return s.detectCard(d, start, end, whole)
	}
	return false
}
