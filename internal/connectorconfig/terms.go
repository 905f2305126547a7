package connectorconfig

import (
	"bufio"
	"strings"
)

// MaxTermsPerList bounds one termsFrom list (a ConfigMap key).
const MaxTermsPerList = 100000

// ParseTermLines reads a termsFrom list: one term a line; blank lines and
// lines starting with # are skipped so lexicons can carry comments.
func ParseTermLines(data string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}
