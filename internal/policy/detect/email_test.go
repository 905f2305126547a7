package detect

import "testing"

func TestValidEmail(t *testing.T) {
	cases := []struct {
		s    string
		want bool
	}{
		{"john.doe@gmail.com", true},
		{"a@qq.com", true},
		{"x_y+tag%1@vip.163.com", true},
		{"user@例子.中国", true},
		{"user@xn--fsqu00a.xn--fiqs8s", true},
		{"user@sub.example.co.uk", true},
		{"user@company.cn.com", true}, // private suffix under an ICANN TLD
		{"user@localhost", false},     // no dot
		{"user@foo.local", false},     // not a public suffix
		{"user@com", false},           // suffix only
		{"user@co.uk", false},         // suffix only
		{".john@gmail.com", false},    // leading dot
		{"john.@gmail.com", false},    // trailing dot
		{"jo..hn@gmail.com", false},   // double dot
		{"@gmail.com", false},         // empty local part
		{"张三@gmail.com", false},       // non-ASCII local part (EAI) left out
		{"a@-bad-.com", false},        // hyphen rules (STD3)
		{"a@exa_mple.com", false},     // underscore
		{string(make([]byte, 65)) + "@gmail.com", false},
	}
	for _, c := range cases {
		if got := ValidEmail(c.s); got != c.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", c.s, got, c.want)
		}
	}
	long := ""
	for len(long) < 64 {
		long += "a"
	}
	if !ValidEmail(long+"@gmail.com") || ValidEmail(long+"a@gmail.com") {
		t.Error("local part limit is 64")
	}
}

func TestEmailRegistrable(t *testing.T) {
	for domain, want := range map[string]string{
		"vip.qq.com":        "qq.com",
		"mail.yahoo.com.hk": "yahoo.com.hk",
		"例子.中国":             "xn--fsqu00a.xn--fiqs8s",
	} {
		got, ok := domainOK(domain)
		if !ok || got != want {
			t.Errorf("domainOK(%q) = %q %v, want %q", domain, got, ok, want)
		}
	}
}
