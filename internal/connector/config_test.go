package connector

import "testing"

func TestConfigValidate(t *testing.T) {
	good := Config{Account: "team-a/alice-wecom", Channel: "webhook", ListenAddr: ":8080", SpoolDir: "/spool", SpoolMaxBytes: 64 << 20}
	tests := []struct {
		name   string
		mutate func(*Config)
		ok     bool
	}{
		{"good", func(*Config) {}, true},
		{"no slash", func(c *Config) { c.Account = "alice" }, false},
		{"bad namespace", func(c *Config) { c.Account = "Team_A/alice" }, false},
		{"bad name", func(c *Config) { c.Account = "team-a/" }, false},
		{"no channel", func(c *Config) { c.Channel = "" }, false},
		{"no listen", func(c *Config) { c.ListenAddr = "" }, false},
		{"no spool", func(c *Config) { c.SpoolDir = "" }, false},
		{"tiny spool", func(c *Config) { c.SpoolMaxBytes = 1000 }, false},
	}
	for _, tc := range tests {
		c := good
		tc.mutate(&c)
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}
