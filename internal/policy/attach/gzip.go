package attach

import (
	"compress/gzip"
	"fmt"
	"io"
	"strings"
)

// gzip inspects a gzip stream: the payload is decompressed through the
// ratio and total limits (measured against the compressed size) and
// inspected as the single member, named from the header's FNAME or, failing
// that, from the attachment name without its .gz. A tar payload is walked
// without adding a level: tar.gz is one archive to its users.
func (in *inspector) gzip(rep *Report, ra io.ReaderAt, size int64, depth int) {
	zr, err := gzip.NewReader(io.NewSectionReader(ra, 0, size))
	if err != nil {
		in.classify(rep, fmt.Errorf("while reading gzip header: %w", err))
		return
	}
	defer zr.Close()
	if !in.takeEntry(rep) {
		return
	}
	name := baseName(zr.Name)
	if name == "" {
		name = gunzippedName(rep.Name)
	}
	c, _, _ := in.member(name, in.limit(zr, size), depth+1, memberOpts{flatTar: true})
	rep.Entries = append(rep.Entries, c)
	rep.absorb(&c)
}

// gunzippedName derives the payload's name the way gzip -d would.
func gunzippedName(name string) string {
	base := baseName(name)
	l := strings.ToLower(base)
	for _, s := range []struct{ from, to string }{
		{".tgz", ".tar"}, {".svgz", ".svg"}, {".emz", ".emf"}, {".wmz", ".wmf"},
		{".gzip", ""}, {".gz", ""},
	} {
		if strings.HasSuffix(l, s.from) {
			return base[:len(base)-len(s.from)] + s.to
		}
	}
	return ""
}
