package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/vigil-operator/vigil/internal/policy/detect"
)

// Everyday chat vocabulary the generated messages are made of: Simplified
// and Traditional Mandarin, written Cantonese and English, as relationship
// managers and clients write them.
var (
	zhWords   = strings.Fields(`我们 你们 今天 明天 下午 上午 客户 产品 基金 股票 市场 价格 报告 会议 时间 问题 可以 需要 已经 还是 因为 所以 如果 但是 这个 那个 什么 怎么 一下 一起 没有 知道 觉得 应该 确认 安排 发给 看看 文件 合同 资料 项目 公司 银行 账户 利率 收益 风险 投资 配置 组合 债券 外汇 汇率 港股 美股 指数 行情 分析 研究 观点 建议 谢谢 好的 收到 麻烦 辛苦 稍等 马上 周一 周五 季度 年报 财报 估值 仓位 交易 下单 成交 结算 托管 理财 保险 贷款 额度 审批 流程 系统 邮件 电话 微信 群里 会后 见面 吃饭 午饭 咖啡 出差 香港 上海 北京 深圳 新加坡`)
	hantWords = strings.Fields(`我們 你們 今天 明天 客戶 產品 基金 股票 市場 價格 報告 會議 時間 問題 可以 需要 已經 還是 因為 所以 如果 但是 這個 那個 什麼 怎麼 沒有 知道 覺得 應該 確認 安排 發給 文件 合同 資料 項目 公司 銀行 賬戶 利率 收益 風險 投資 配置 組合 債券 外匯 匯率 港股 美股 指數 行情 分析 研究 觀點 建議 謝謝 好的 收到 麻煩 辛苦 稍等 馬上 季度 年報 估值 倉位 交易 下單 成交 結算 理財 保險 貸款 額度 審批 郵件 電話`)
	yueWords  = strings.Fields(`佢哋 我哋 你哋 而家 琴日 聽日 唔係 係咪 點樣 邊度 乜嘢 冇問題 好啱 攞 睇下 傾下 搞掂 返工 放工 飲茶 食飯 啲 嘅 咗 喺 咁 嚟 啦 喎 㗎 囉 吖 呀 客 報價 股票 基金 收益 風險 銀行 戶口 轉數 過數 埋單 搵 諗 諗下`)
	enWords   = strings.Fields(`the client fund portfolio today tomorrow meeting call please send report review price market rates bond equity allocation risk return quarter earnings schedule confirm thanks ok sure will can we you our their deal trade order settle account transfer compliance desk team update draft deck slide numbers yield spread duration hedge exposure position limit approve`)
	punct     = []string{"，", "。", "！", "？", "、", "；", "：", " ", ", ", ". ", "! ", "? ", "~", "…"}
)

// corpus generates messages deterministically from a seed: mostly ordinary
// chat, a term from the lexicon in about one message in fifty, an identifier
// for a detector in about one in forty, a link in about one in sixty.
type corpus struct {
	rng   *rand.Rand
	terms []string
}

func newCorpus(seed uint64, terms []string) *corpus {
	return &corpus{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), terms: terms}
}

// message returns one chat message of roughly size bytes.
func (c *corpus) message(size int) string {
	var b strings.Builder
	words, english := zhWords, false
	switch c.rng.IntN(10) {
	case 0, 1:
		words = hantWords
	case 2:
		words = yueWords
	case 3, 4:
		words, english = enWords, true
	}
	mixed := c.rng.IntN(4) == 0
	for b.Len() < size {
		w := words[c.rng.IntN(len(words))]
		if mixed && c.rng.IntN(5) == 0 {
			w = " " + enWords[c.rng.IntN(len(enWords))] + " "
		}
		b.WriteString(w)
		if english {
			b.WriteByte(' ')
		}
		if c.rng.IntN(6) == 0 {
			b.WriteString(punct[c.rng.IntN(len(punct))])
		}
	}
	switch n := c.rng.IntN(3000); {
	case n < 60:
		b.WriteString(c.terms[c.rng.IntN(len(c.terms))])
	case n < 135:
		b.WriteString(" " + c.identifier())
	case n < 185:
		b.WriteString(" " + c.link())
	}
	return b.String()
}

// identifier is a value one of the detectors should find.
func (c *corpus) identifier() string {
	switch c.rng.IntN(9) {
	case 0:
		return "身份证 " + detect.GenChinaResidentID(c.rng)
	case 1:
		return "手机 " + detect.GenChinaMobile(c.rng)
	case 2:
		return "卡号 " + detect.GenCard(c.rng, "62", 19)
	case 3:
		return "HKID " + detect.GenHKID(c.rng)
	case 4:
		return "IBAN " + detect.GenIBAN(c.rng)
	case 5:
		return "USDT地址 " + detect.GenTRON(c.rng)
	case 6:
		return "wallet " + detect.GenETH(c.rng)
	case 7:
		return "统一社会信用代码 " + detect.GenUSCC(c.rng)
	default:
		return fmt.Sprintf("mail me at client%d@qq.com", c.rng.IntN(100000))
	}
}

func (c *corpus) link() string {
	hosts := []string{"www.hkex.com.hk/news", "t.cn/A6x9Zk", "icbc-login.xyz/verify", "xn--icb-8ma.com", "bit.ly/3xYz", "docs.example.com/deck.pdf"}
	return "https://" + hosts[c.rng.IntN(len(hosts))] + " "
}

// lexicon makes n distinct terms: two to four ideographs drawn from the
// whole common range (so they are rare in chat, as real lexicon terms are),
// and every fifth an English phrase.
func lexicon(seed uint64, n int) []string {
	rng := rand.New(rand.NewPCG(seed, 1))
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var t string
		if len(out)%5 == 0 {
			t = fmt.Sprintf("%s %s %s", enWords[rng.IntN(len(enWords))], []string{"offshore", "kickback", "guaranteed", "insider", "launder", "pump"}[rng.IntN(6)], enWords[rng.IntN(len(enWords))])
		} else {
			var b strings.Builder
			for range 2 + rng.IntN(3) {
				b.WriteRune(rune(0x4E00 + rng.IntN(0x5000)))
			}
			t = b.String()
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
