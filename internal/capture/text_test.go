package capture

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestJoinText(t *testing.T) {
	if got := JoinText("\n", "邀请你加入群聊 ", "", "  ", "https://work.weixin.qq.com/x"); got != "邀请你加入群聊 \nhttps://work.weixin.qq.com/x" {
		t.Fatalf("JoinText = %q", got)
	}
	if JoinText(", ") != "" || JoinText(", ", " ") != "" {
		t.Fatal("nothing to join is empty")
	}
}

func TestClipKeepsUTF8Whole(t *testing.T) {
	s := strings.Repeat("内幕", 10) // 3 bytes a character
	for n := 0; n <= len(s)+1; n++ {
		got := Clip(s, n)
		if len(got) > n || !utf8.ValidString(got) || !strings.HasPrefix(s, got) || len(got) < n-2 {
			t.Fatalf("Clip(%d) = %q", n, got)
		}
	}
}
