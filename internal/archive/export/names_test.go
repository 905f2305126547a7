package export

import (
	"io/fs"
	"strings"
	"testing"
)

func TestIDComponent(t *testing.T) {
	if got := idComponent("01KJPWD6M0N34YA28STMCTG4AK"); got != "01KJPWD6M0N34YA28STMCTG4AK" {
		t.Errorf("a ULID was changed to %q", got)
	}
	for _, id := range []string{"", "../../etc/passwd", "a/b", "CON.txt", "名字", strings.Repeat("A", 65)} {
		got := idComponent(id)
		if !strings.HasPrefix(got, "x") || len(got) != 33 || !fs.ValidPath(got) {
			t.Errorf("idComponent(%q) = %q", id, got)
		}
	}
	if idComponent("a/b") == idComponent("a_b") {
		t.Error("two ids map to one file")
	}
}

func TestSafeComponent(t *testing.T) {
	for in, want := range map[string]string{
		"报价单 v2.pdf":       "报价单_v2.pdf",
		"../../etc/passwd": "_.._etc_passwd",
		"...hidden":        "hidden",
		"":                 "fallback",
		"a\x00b\nc":        "a_b_c",
		"\xff\xfe":         "__",
	} {
		if got := safeComponent(in, 100, "fallback"); got != want {
			t.Errorf("safeComponent(%q) = %q, want %q", in, got, want)
		}
	}
	if got := safeComponent(strings.Repeat("飯", 50), 10, "x"); got != "飯飯飯" {
		t.Errorf("cut in the middle of a character: %q", got)
	}
}

func TestPathsAreValid(t *testing.T) {
	k := sliceKey{Account: "desk/chan", Channel: "wecom", Conversation: "../群 /x", Day: "2026-03-02"}
	for _, p := range []string{
		nativePath("01A"), findingsPath("01A"), textPath("01A"), emlPath("01A"),
		attachmentPath("01A", 3, "../报价单.pdf"), rsmfPath(k),
	} {
		if !fs.ValidPath(p) || strings.Contains(p, "..") {
			t.Errorf("%q is not a clean relative path", p)
		}
	}
	if rsmfPath(k) == rsmfPath(sliceKey{Account: "desk/chan", Channel: "wecom", Conversation: "../群 /y", Day: "2026-03-02"}) {
		t.Error("two conversations with similar names share a file")
	}
}
