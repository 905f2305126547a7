package simulator

// template is one line of simulated chat. Placeholders in braces are filled by
// the generator: {client} {staff} {stock} {amount} {pct} {time} {date}
// {prcid} {phone}. Flagged templates carry content a compliance policy is
// expected to catch; flag names the category for documentation and tests.
type template struct {
	lang string // zh-Hans, zh-Hant, yue, en, mixed
	text string
	flag string // "" for ordinary chatter
}

// Language tags.
const (
	langSimplified  = "zh-Hans"
	langTraditional = "zh-Hant"
	langCantonese   = "yue"
	langEnglish     = "en"
	langMixed       = "mixed"
)

// Flags of the sensitive templates.
const (
	flagInsider    = "insider_information"
	flagGuarantee  = "guaranteed_returns"
	flagPRCID      = "prc_id_number"
	flagPhone      = "phone_number"
	flagOffChannel = "off_channel"
	flagGift       = "gifts_entertainment"
)

// ordinaryTemplates are everyday conversation between staff and clients.
var ordinaryTemplates = []template{
	{langSimplified, "{client}您好，关于{stock}的研究报告已经发到您邮箱了，请查收。", ""},
	{langSimplified, "明天{time}的会议改到线上，链接稍后发群里。", ""},
	{langSimplified, "收到，我下午整理一下持仓明细再回复您。", ""},
	{langSimplified, "{stock}今天成交量放大，您之前问的止损位可以再讨论一下。", ""},
	{langSimplified, "本周五前需要您签署风险披露书，谢谢配合。", ""},
	{langSimplified, "{staff}，客户的开户资料还差一份地址证明。", ""},
	{langSimplified, "好的，我先跟合规部确认一下再答复您。", ""},
	{langSimplified, "市场波动比较大，建议您注意仓位控制。", ""},
	{langSimplified, "{date}的路演安排在三楼会议室，请提前十分钟到。", ""},
	{langSimplified, "您要的{stock}季度财报摘要我整理好了。", ""},
	{langSimplified, "转账{amount}已经到账，我这边确认一下交易指令。", ""},
	{langSimplified, "辛苦了，今天先到这里，有问题随时联系。", ""},
	{langTraditional, "{client}您好，{stock}的最新評級報告已上載到客戶平台。", ""},
	{langTraditional, "請問您方便在{time}通電話嗎？想跟您覆核一下投資組合。", ""},
	{langTraditional, "我們會在{date}前寄出年度結單，敬請留意。", ""},
	{langTraditional, "閣下的認購申請已收妥，配售結果公布後會通知您。", ""},
	{langTraditional, "這隻基金的風險評級是第四級，請先完成風險問卷。", ""},
	{langTraditional, "謝謝您的耐心，文件我們已經轉交後台處理。", ""},
	{langTraditional, "{staff}，麻煩你幫客戶查一下上星期的成交紀錄。", ""},
	{langTraditional, "近期息口有變，定期存款利率會再調整。", ""},
	{langCantonese, "{client}，早晨！佢哋話{stock}今日開市會高開喎。", ""},
	{langCantonese, "我啱啱send咗份報告畀你，你睇吓有冇問題。", ""},
	{langCantonese, "唔係呀，嗰筆錢係上個月已經轉咗過去㗎喇。", ""},
	{langCantonese, "你幾點得閒？我哋{time}傾吓個portfolio好唔好？", ""},
	{langCantonese, "佢哋嘅申請表仲未簽名，要再寄多次。", ""},
	{langCantonese, "收到，我而家同後台跟進緊，遲啲覆你。", ""},
	{langCantonese, "今日個市好唔穩陣，你唔好急住入貨住。", ""},
	{langCantonese, "{staff}，客人話想改返個mailing address，你幫手搞搞。", ""},
	{langCantonese, "唔該晒你呀，今次真係幫咗我好多。", ""},
	{langCantonese, "個會改咗去聽日{time}，記得早啲到。", ""},
	{langCantonese, "佢話份合約嘅條款有啲唔清楚，想搵人解釋吓。", ""},
	{langEnglish, "Hi {client}, the {stock} research note is in your inbox.", ""},
	{langEnglish, "Can we move our call to {time}? I have a clash.", ""},
	{langEnglish, "Your subscription for {amount} has been received and is pending allocation.", ""},
	{langEnglish, "Please review and sign the updated risk disclosure by {date}.", ""},
	{langEnglish, "Noted, I'll check with compliance and come back to you.", ""},
	{langEnglish, "{staff}, could you pull last week's trade confirmations for this client?", ""},
	{langEnglish, "Markets are choppy today; let's keep position sizes modest.", ""},
	{langEnglish, "Thanks for your patience, the documents are with operations now.", ""},
	{langEnglish, "The quarterly review deck is attached; happy to walk you through it.", ""},
	{langEnglish, "Settlement for the {stock} trade is T+2, so funds arrive on {date}.", ""},
	{langMixed, "{client}，份term sheet我已經email咗畀你，有問題再call我。", ""},
	{langMixed, "我们明天{time}有个conference call，记得join一下。", ""},
	{langMixed, "个deal基本上done咗，等legal睇完份doc就可以sign。", ""},
	{langMixed, "{stock}呢排個volume好大，你想唔想set個stop loss？", ""},
	{langMixed, "OK 收到，我check完個position再update你。", ""},
	{langMixed, "客户想redeem部分基金，大概{amount}，我先submit申请。", ""},
	{langMixed, "Please 幫我 confirm 一下個 settlement date 係咪 {date}。", ""},
	{langMixed, "个KYC file仲差proof of address，麻烦提醒一下客户。", ""},
	{langMixed, "Meeting room booked 咗 {time}，大家準時啲。", ""},
	{langMixed, "佢哋个fund performance今年up咗{pct}，but波动都几大。", ""},
}

// sensitiveTemplates are what a compliance policy should catch.
var sensitiveTemplates = []template{
	{langSimplified, "跟你说个内幕消息，{stock}下周要公布并购，先买一点。", flagInsider},
	{langSimplified, "这个产品保证收益{pct}，绝对不会亏本，放心投。", flagGuarantee},
	{langSimplified, "开户需要您的身份证号，您直接发我：{prcid}这样格式就行。", flagPRCID},
	{langSimplified, "有事直接打我私人手机{phone}，别在这里说。", flagOffChannel},
	{langSimplified, "客户身份证号码是{prcid}，麻烦帮忙录入系统。", flagPRCID},
	{langSimplified, "我们保本保息，年化{pct}稳赚，名额有限。", flagGuarantee},
	{langTraditional, "我朋友在董事會，{stock}的業績下週公布前會大升，內幕消息別外傳。", flagInsider},
	{langTraditional, "這個計劃保證回報{pct}，穩賺不賠。", flagGuarantee},
	{langTraditional, "收到您的身份證號{prcid}了，我幫您先填表。", flagPRCID},
	{langCantonese, "偷偷話你知，{stock}聽日有大消息，快啲入貨，唔好話係我講㗎。", flagInsider},
	{langCantonese, "呢隻產品保證有{pct}回報㗎，包賺唔蝕。", flagGuarantee},
	{langCantonese, "我哋出去傾啦，打我手機{phone}，唔好喺度講。", flagOffChannel},
	{langCantonese, "佢哋送咗兩張演唱會飛畀我，你要唔要？唔使報公司。", flagGift},
	{langEnglish, "Keep this between us: {stock} is announcing the acquisition Monday, load up now.", flagInsider},
	{langEnglish, "This note has guaranteed returns of {pct}, zero risk, I promise.", flagGuarantee},
	{langEnglish, "Text me on my personal number {phone}, let's not discuss this here.", flagOffChannel},
	{langMixed, "Guaranteed returns 保证收益 {pct}，you won't lose a cent.", flagGuarantee},
	{langMixed, "Inside info 嚟㗎：{stock} 下個禮拜 profit warning，快啲沽。", flagInsider},
	{langMixed, "WhatsApp我 {phone} 啦，呢度 compliance 會睇到。", flagOffChannel},
	{langMixed, "客户ID number {prcid}，please update KYC record。", flagPRCID},
}

// Fill-ins for placeholders.
var (
	stocks  = []string{"腾讯控股", "騰訊控股", "HSBC", "中国平安", "阿里巴巴", "小米集團", "比亚迪", "AIA", "港交所", "美团", "Tencent", "BYD"}
	times   = []string{"3pm", "下午三点", "10:30", "朝早十點", "明早九点半", "4:15pm", "夜晚八點"}
	dates   = []string{"周五", "下星期一", "3月15日", "月底", "Friday", "next Tuesday", "十二月一號"}
	amounts = []string{"50万", "HK$2,000,000", "USD 150k", "三百萬", "人民币80万", "$1.2M"}
	pcts    = []string{"8%", "12%", "15%", "百分之十", "20%", "6.5%"}
)
