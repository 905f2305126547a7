package link

import (
	"strings"
	"testing"
)

func TestHostFields(t *testing.T) {
	for _, tc := range []struct {
		raw, host, display, etld1 string
		ip                        bool
	}{
		{"Example.COM", "example.com", "example.com", "example.com", false},
		{"www.icbc.com.cn.", "www.icbc.com.cn", "www.icbc.com.cn", "icbc.com.cn", false},
		{"ісbс.com.cn", "xn--b-6tbb5f.com.cn", "ісbс.com.cn", "xn--b-6tbb5f.com.cn", false},
		{"XN--B-6TBB5F.com.cn", "xn--b-6tbb5f.com.cn", "ісbс.com.cn", "xn--b-6tbb5f.com.cn", false},
		{"ｉｃｂｃ。com。cn", "icbc.com.cn", "icbc.com.cn", "icbc.com.cn", false},
		{"icbc．com", "icbc.com", "icbc.com", "icbc.com", false},
		{"ic\u200bbc.com", "icbc.com", "icbc.com", "icbc.com", false},
		{"%69cbc.com", "icbc.com", "icbc.com", "icbc.com", false},
		{"my_host.example.com", "my_host.example.com", "my_host.example.com", "example.com", false},
		{"x.github.io", "x.github.io", "x.github.io", "x.github.io", false}, // private suffix
		{"com.cn", "com.cn", "com.cn", "", false},
		{"localhost", "localhost", "localhost", "", false},
		{"192.168.1.1", "192.168.1.1", "192.168.1.1", "", true},
		{"0x7f.1", "127.0.0.1", "127.0.0.1", "", true},
		{"2130706433", "127.0.0.1", "127.0.0.1", "", true},
		{"0177.0.0.01", "127.0.0.1", "127.0.0.1", "", true},
		{"[::1]", "::1", "::1", "", true},
		{"[2001:DB8::1]", "2001:db8::1", "2001:db8::1", "", true},
		{"1.2.3.999", "", "", "", false},
		{"1.2.3.4.5", "", "", "", false},
		{"a..b.com", "", "", "", false},
		{".", "", "", "", false},
		{"", "", "", "", false},
		{"[nope]", "", "", "", false},
		{"a b.com", "", "", "", false},
	} {
		h := hostFields(tc.raw)
		if h.host != tc.host || h.display != tc.display || h.etld1 != tc.etld1 || h.ip != tc.ip {
			t.Errorf("hostFields(%q) = %+v, want host %q display %q etld1 %q ip %v", tc.raw, h, tc.host, tc.display, tc.etld1, tc.ip)
		}
	}
}

func TestMixedScript(t *testing.T) {
	for _, tc := range []struct {
		label string
		bad   bool
	}{
		{"icbc", false},
		{"bücher", false},         // Latin with diacritics, one script
		{"рф", false},             // whole-script Cyrillic: Chrome allows it
		{"中国银行", false},           // Han
		{"中国bank", false},         // ASCII Latin + Han
		{"日本語テストabc", false},      // Japanese with Latin
		{"한국abc", false},          // Hangul with Latin
		{"ㄅㄆ中文", false},           // Bopomofo with Han
		{"ภาษาไทยabc", false},     // ASCII Latin + Thai, not look-alikes
		{"ісbс", true},            // Latin + Cyrillic
		{"αpple", true},           // Latin + Greek
		{"gօօgle", true},          // Latin + Armenian look-alikes (mixed-script confusable)
		{"café中", true},           // non-ASCII Latin mixed with Han
		{"abc١٢", true},           // Latin letters, Arabic-Indic digits
		{"a1١", true},             // ASCII and Arabic-Indic digits
		{"مصر١٢", false},          // Arabic with its own digits
		{"русскийελληνικά", true}, // Cyrillic + Greek
		{"1234", false},
		{"a-b", false},
	} {
		got := mixedScript(tc.label)
		if (got != "") != tc.bad {
			t.Errorf("mixedScript(%q) = %q, want bad=%v", tc.label, got, tc.bad)
		}
	}
}

func TestParseIPv4(t *testing.T) {
	for _, tc := range []struct {
		in            string
		want          string
		ok, isNumeric bool
	}{
		{"1.2.3.4", "1.2.3.4", true, true},
		{"0x7f.0.0.1", "127.0.0.1", true, true},
		{"0x7F.1", "127.0.0.1", true, true},
		{"127.1", "127.0.0.1", true, true},
		{"4294967295", "255.255.255.255", true, true},
		{"4294967296", "", false, true},
		{"256.1.1.1", "", false, true},
		{"1.2.3.256", "", false, true},
		{"a.1", "", false, true},
		{"1.a", "", false, false},
		{"08.1.1.1", "", false, true},
		{"example.com", "", false, false},
	} {
		addr, ok, numeric := parseIPv4(tc.in)
		got := ""
		if ok {
			got = addr.String()
		}
		if got != tc.want || ok != tc.ok || numeric != tc.isNumeric {
			t.Errorf("parseIPv4(%q) = %q %v %v, want %q %v %v", tc.in, got, ok, numeric, tc.want, tc.ok, tc.isNumeric)
		}
	}
}

func TestBareTLDs(t *testing.T) {
	for _, tld := range []string{"com", "cn", "hk", "xyz", "top", "vip", "icu", "io"} {
		if !bareTLDs[tld] {
			t.Errorf("%s should be a bare TLD", tld)
		}
	}
	for _, tld := range []string{"world", "md", "py", "sh", "thanks"} {
		if bareTLDs[tld] {
			t.Errorf("%s should not be a bare TLD", tld)
		}
	}
	// Every bare TLD must be a real ICANN suffix, or the list has a typo.
	for tld := range bareTLDs {
		if h := hostFields("example." + tld); !h.icann || !strings.HasSuffix(h.suffix, tld) {
			t.Errorf("bare TLD %q is not an ICANN public suffix", tld)
		}
	}
}

func TestParentDomains(t *testing.T) {
	var got []string
	parentDomains("a.b.c", func(d string) bool { got = append(got, d); return true })
	if strings.Join(got, " ") != "a.b.c b.c c" {
		t.Fatalf("parentDomains = %q", got)
	}
}

func TestPunycodeLabels(t *testing.T) {
	if got := punycodeLabels("www.xn--b-6tbb5f.xn--fiqs8s"); len(got) != 2 {
		t.Fatalf("punycodeLabels = %q", got)
	}
	if got := punycodeLabels("icbc.com.cn"); got != nil {
		t.Fatalf("punycodeLabels = %q", got)
	}
}
