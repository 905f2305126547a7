package devcluster

import "testing"

func TestExpandVars(t *testing.T) {
	vars := map[string]string{"POD_IP": "127.1.0.7", "NAME": "acct-0", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	cases := map[string]string{
		"--listen=$(POD_IP):8080":  "--listen=127.1.0.7:8080",
		"$(NAME)-$(POD_IP)":        "acct-0-127.1.0.7",
		"$(MISSING)":               "$(MISSING)",
		"$$(POD_IP)":               "$(POD_IP)",
		"$$$(POD_IP)":              "$127.1.0.7",
		"cost $5":                  "cost $5",
		"trailing $":               "trailing $",
		"open $(POD_IP":            "open $(POD_IP",
		"x$(EMPTY)y":               "xy",
		"$()":                      "$()",
		"no references":            "no references",
		"$(NAME)$(NAME)":           "acct-0acct-0",
		"a$(POD_IP)b$(MISSING)c$$": "a127.1.0.7b$(MISSING)c$",
	}
	for in, want := range cases {
		if got := expandVars(in, lookup); got != want {
			t.Errorf("expandVars(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMountTableRewrite(t *testing.T) {
	mt := newMountTable(map[string]string{
		"/etc/vigil/connector":   "/s/pods/ns/p/volumes/config",
		"/var/run/secrets/vigil": "/s/pods/ns/p/volumes/archive-token",
		"/var/run/secrets":       "/s/pods/ns/p/volumes/secrets",
		"/tmp":                   "/s/pods/ns/p/volumes/tmp",
		"/":                      "/s/root",
	})
	cases := map[string]string{
		"/etc/vigil/connector":                      "/s/pods/ns/p/volumes/config",
		"/etc/vigil/connector/config.json":          "/s/pods/ns/p/volumes/config/config.json",
		"/etc/vigil/connectorX":                     "/etc/vigil/connectorX",
		"--config-dir=/etc/vigil/connector":         "--config-dir=/s/pods/ns/p/volumes/config",
		"--token-file=/var/run/secrets/vigil/token": "--token-file=/s/pods/ns/p/volumes/archive-token/token",
		"/var/run/secrets/other/x":                  "/s/pods/ns/p/volumes/secrets/other/x",
		"-f=/tmp/a":                                 "-f=/s/pods/ns/p/volumes/tmp/a",
		"x=/tmp/a":                                  "x=/tmp/a",
		"/usr/bin/env":                              "/usr/bin/env",
		"connector":                                 "connector",
		"--listen=127.1.0.7:8080":                   "--listen=127.1.0.7:8080",
	}
	for in, want := range cases {
		if got := mt.rewriteArg(in); got != want {
			t.Errorf("rewriteArg(%q) = %q, want %q", in, got, want)
		}
	}
}
