package fakesdk

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

//go:embed testdata/samples.jsonl testdata/constructed.jsonl
var fixtureFS embed.FS

// Samples returns the vendor doc's decrypted-message samples (research
// §3.2), one per msgtype, verbatim.
func Samples() [][]byte { return readLines("testdata/samples.jsonl") }

// Constructed returns messages of the msgtypes the doc gives only field
// lists for (todo, vote, voip_doc_share, external_redpacket, sphfeed),
// built by us from those field names; they are not vendor samples.
func Constructed() [][]byte { return readLines("testdata/constructed.jsonl") }

func readLines(name string) [][]byte {
	b, err := fixtureFS.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("fakesdk: embedded %s: %v", name, err))
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			out = append(out, append([]byte(nil), l...))
		}
	}
	return out
}

// Traffic generates n messages of ordinary traffic from start, one a
// second: texts between members and external contacts, and every tenth an
// image whose media (mediaBytes long, md5sum correct) is added to the fake.
// The seed makes it reproducible.
func (s *SDK) Traffic(n int, start time.Time, mediaBytes int, seed uint64) ([][]byte, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	members := []string{"zhangsan", "lisi", "wangwu"}
	externals := []string{"wmGAgeDQAAvQeaTqWwkMTxGMkvI7OOuQ", "woAJ2GCAAAd1NPGHKSD4wKmE8Aabj9AA"}
	words := []string{"报价", "收到", "请确认", "合同", "明天开会", "price", "confirm", "settlement", "谢谢"}
	out := make([][]byte, 0, n)
	for i := range n {
		from := members[rng.IntN(len(members))]
		to := externals[rng.IntN(len(externals))]
		if rng.IntN(2) == 0 {
			from, to = to, from
		}
		at := start.Add(time.Duration(i) * time.Second).UnixMilli()
		msg := map[string]any{
			"msgid": fmt.Sprintf("gen%016x_%d", rng.Uint64(), at/1000), "action": "send", "from": from,
			"tolist": []string{to}, "roomid": "", "msgtime": at,
		}
		if i%10 == 9 && mediaBytes > 0 {
			data := make([]byte, mediaBytes)
			for j := range data {
				data[j] = byte(rng.UintN(256))
			}
			sum := md5.Sum(data)
			id := fmt.Sprintf("gen-sdkfileid-%d-%x", i, rng.Uint64())
			s.AddMedia(id, data)
			msg["msgtype"] = "image"
			msg["image"] = map[string]any{"md5sum": hex.EncodeToString(sum[:]), "filesize": len(data), "sdkfileid": id}
		} else {
			msg["msgtype"] = "text"
			msg["text"] = map[string]any{"content": words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))]}
		}
		b, err := json.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("fakesdk: traffic: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}
