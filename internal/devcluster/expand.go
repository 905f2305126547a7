package devcluster

import (
	"path"
	"sort"
	"strings"
)

// expandVars replaces $(NAME) references the way the kubelet does for
// command, args and env values: a defined NAME is replaced by its value, an
// undefined one is left as written, and $$ escapes a literal $.
func expandVars(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				// An unterminated reference is kept literally.
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			ref := s[i : i+3+end]
			if v, ok := lookup(name); ok && name != "" {
				b.WriteString(v)
			} else {
				b.WriteString(ref)
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// mountTable maps container mount paths to local folders. Processes cannot
// mount, so every argument or environment value that names a path inside a
// mount is rewritten to the folder that stands in for it.
type mountTable struct {
	// entries are sorted longest mount path first, so that a mount nested
	// in another one wins.
	entries []mountEntry
}

type mountEntry struct {
	mountPath string // cleaned, absolute
	local     string
}

func newMountTable(m map[string]string) mountTable {
	var t mountTable
	for mp, local := range m {
		mp = path.Clean(mp)
		if mp == "/" || !path.IsAbs(mp) {
			// Rewriting every absolute path would break the process; a
			// mount at / cannot be stood in for.
			continue
		}
		t.entries = append(t.entries, mountEntry{mountPath: mp, local: local})
	}
	sort.Slice(t.entries, func(i, j int) bool {
		if len(t.entries[i].mountPath) != len(t.entries[j].mountPath) {
			return len(t.entries[i].mountPath) > len(t.entries[j].mountPath)
		}
		return t.entries[i].mountPath < t.entries[j].mountPath
	})
	return t
}

// rewritePath maps p when it is a mount path or a path below one.
func (t mountTable) rewritePath(p string) (string, bool) {
	for _, e := range t.entries {
		if p == e.mountPath {
			return e.local, true
		}
		if strings.HasPrefix(p, e.mountPath+"/") {
			return e.local + p[len(e.mountPath):], true
		}
	}
	return p, false
}

// rewriteArg maps an argument that is a path ("/etc/x/config.json") or a
// flag with a path value ("--config-dir=/etc/x", "-f=/etc/x/y").
func (t mountTable) rewriteArg(arg string) string {
	if out, ok := t.rewritePath(arg); ok {
		return out
	}
	if strings.HasPrefix(arg, "-") {
		if eq := strings.IndexByte(arg, '='); eq > 0 {
			if out, ok := t.rewritePath(arg[eq+1:]); ok {
				return arg[:eq+1] + out
			}
		}
	}
	return arg
}
