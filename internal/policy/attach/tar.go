package attach

import (
	"archive/tar"
	"fmt"
	"io"
	"strings"
)

// tar walks a tar stream; members are at childDepth. Only regular files
// have content to inspect. Sparse files are skipped: their holes are
// synthesised zeros, a decompression bomb that costs no input.
func (in *inspector) tar(rep *Report, rd io.Reader, childDepth int) {
	tr := tar.NewReader(rd)
	for {
		if in.stop {
			rep.Partial = true
			return
		}
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			in.classify(rep, fmt.Errorf("while reading tar header: %w", err))
			return
		}
		if !in.takeEntry(rep) {
			return
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeGNUSparse {
			continue // directories, links, devices: nothing to inspect
		}
		var c Report
		if isSparse(h) {
			c = InspectMeta(Meta{Name: h.Name})
			c.Partial = true
		} else {
			c, _, _ = in.member(h.Name, tr, childDepth, memberOpts{})
		}
		rep.Entries = append(rep.Entries, c)
		rep.absorb(&c)
	}
}

func isSparse(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
