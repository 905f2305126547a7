package detect

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Benchmark and fuzz corpora: synthetic chat text mixing Simplified and
// Traditional Chinese, Cantonese and English with ordinary numbers (prices,
// times, dates, order numbers) and a few identifier candidates per KB, most
// of them decoys. Values come from the generators, never from real people.

var corpusZH = []string{
	"好的，我晚点再跟你确认一下这个方案。", "今天市场波动比较大，客户那边有点担心。",
	"明天上午十点开会，记得带上材料。", "这个产品的收益率大概在百分之三左右。",
	"我们下周一起去看看那个项目吧。", "麻烦把合同发我一份，谢谢！", "收到，马上处理。",
	"這個價格我覺得還可以再談一下。", "佢哋今日唔得閒，聽日先傾啦。", "你而家喺邊度呀？",
	"老板说这周之前一定要搞定。", "客户问能不能提前赎回，我说要看合同条款。",
	"刚才电话里说的那个数字我再核对一下。", "请把开户资料整理好，下午提交给柜台。",
	"这个月的业绩还差一点，大家加油。", "我在地铁上，信号不太好，等下回你。",
}

var corpusEN = []string{
	"Let me check with the desk and get back to you shortly. ",
	"The client wants the quarterly report before Friday. ",
	"Please review the attached term sheet and confirm. ",
	"Can we move the call to 3pm tomorrow? ",
	"Markets were volatile today, so keep an eye on the positions. ",
	"Thanks, noted. I will follow up with compliance. ",
	"OK sounds good, see you at the meeting. ",
}

// corpusNumber returns an ordinary, non-identifier number as chat writes it.
func corpusNumber(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return "¥" + strconv.Itoa(r.IntN(100000)) + ".00"
	case 1:
		return strconv.Itoa(r.IntN(24)) + ":" + strconv.Itoa(10+r.IntN(50))
	case 2:
		return "2026-0" + strconv.Itoa(1+r.IntN(9)) + "-1" + strconv.Itoa(r.IntN(10))
	case 3:
		return strconv.Itoa(r.IntN(100)) + "%"
	case 4:
		return "订单号" + "2026" + strconv.Itoa(10000000+r.IntN(89999999)) + "0"
	case 5:
		return strconv.Itoa(r.IntN(1000)) + "万"
	case 6:
		return "第" + strconv.Itoa(1+r.IntN(9)) + "期"
	}
	return "v" + strconv.Itoa(r.IntN(9)) + "." + strconv.Itoa(r.IntN(20))
}

// corpusCandidate returns an identifier-like token as chat writes it: half
// of the time a decoy of an identifier's shape (order, waybill and
// reference numbers, timestamps, tickets), else a valid value with its
// usual label.
func corpusCandidate(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return corpusDecoy(r)
	}
	return corpusValid(r)
}

// corpusDecoy returns an identifier-shaped token that is not one.
func corpusDecoy(r *rand.Rand) string {
	switch r.IntN(7) {
	case 0:
		return " 顺丰单号SF" + strconv.FormatInt(1000000000000+r.Int64N(8999999999999), 10) + " "
	case 1:
		return " ts=" + strconv.FormatInt(1772345678901+r.Int64N(99999999), 10) + " "
	case 2:
		return " 工单 INC" + strconv.Itoa(1000000+r.IntN(8999999)) + " "
	case 3:
		return "流水号" + strconv.FormatInt(100000000+r.Int64N(899999999), 10) + strconv.FormatInt(100000000+r.Int64N(899999999), 10)
	case 4:
		return "编号" + "12" + strconv.Itoa(100000000+r.IntN(899999999))
	case 5:
		return " ref " + strconv.FormatInt(1000000000000000+r.Int64N(8999999999999999), 10) + " "
	}
	return " ticket ABC" + strconv.Itoa(100000+r.IntN(899999)) + " "
}

// corpusValid returns a valid identifier with its label.
func corpusValid(r *rand.Rand) string {
	switch r.IntN(10) {
	case 0:
		return "身份证号" + GenChinaResidentID(r)
	case 1:
		return "手机 " + GenChinaMobile(r)
	case 2:
		return "卡号" + GenCard(r, "62", 19)
	case 3:
		m := GenChinaMobile(r)
		return " contact " + m[:3] + "-" + m[3:7] + "-" + m[7:] + " "
	case 4:
		return " USDT地址 " + GenTRON(r) + " "
	case 5:
		return " mail me at " + "user" + strconv.Itoa(r.IntN(1000)) + "@qq.com "
	case 6:
		return " HKID " + GenHKID(r) + " "
	case 7:
		return " wallet " + GenETH(r) + " "
	case 8:
		return " IBAN " + GenIBAN(r) + " "
	}
	return "统一社会信用代码" + GenUSCC(r)
}

// benchText builds about size bytes of mixed chat text with roughly
// perKB candidates per 1,000 bytes.
func benchText(seed uint64, size int, perKB float64) string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b strings.Builder
	b.Grow(size + 256)
	for b.Len() < size {
		switch x := r.Float64(); {
		case x < 0.55:
			b.WriteString(corpusZH[r.IntN(len(corpusZH))])
		case x < 0.85:
			b.WriteString(corpusEN[r.IntN(len(corpusEN))])
		default:
			b.WriteString(corpusNumber(r))
			b.WriteByte(' ')
		}
		// Sentences average ~45 bytes.
		if r.Float64() < perKB*45/1000 {
			b.WriteString(corpusCandidate(r))
		}
		if r.IntN(8) == 0 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
