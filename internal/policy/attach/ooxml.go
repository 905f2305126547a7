package attach

import (
	"bytes"
	"encoding/binary"
	"html"
	"path"
	"strings"
	"unicode/utf16"
)

// zipKind refines a zip by its member names: Office Open XML needs
// [Content_Types].xml and its application folder; Android packages carry
// AndroidManifest.xml or classes.dex at the root; Java archives a manifest.
// OPC part names are case-insensitive, so the comparison is too.
func zipKind(names []string) string {
	var contentTypes, word, xl, ppt, apk, jar, wordVBA, xlMacros, pptVBA bool
	for _, n := range names {
		l := strings.ToLower(n)
		switch {
		case l == "[content_types].xml":
			contentTypes = true
		case l == "androidmanifest.xml" || l == "classes.dex":
			apk = true
		case l == "meta-inf/manifest.mf":
			jar = true
		case strings.HasPrefix(l, "word/"):
			word = true
			wordVBA = wordVBA || strings.HasSuffix(l, "/vbaproject.bin") || l == "word/vbadata.xml"
		case strings.HasPrefix(l, "xl/"):
			xl = true
			xlMacros = xlMacros || strings.HasSuffix(l, "/vbaproject.bin") || strings.HasPrefix(l, "xl/macrosheets/")
		case strings.HasPrefix(l, "ppt/"):
			ppt = true
			pptVBA = pptVBA || strings.HasSuffix(l, "/vbaproject.bin")
		}
	}
	switch {
	case contentTypes && word:
		return pick(wordVBA, TypeDocm, TypeDocx)
	case contentTypes && xl:
		return pick(xlMacros, TypeXlsm, TypeXlsx)
	case contentTypes && ppt:
		return pick(pptVBA, TypePptm, TypePptx)
	case apk:
		return TypeAPK
	case jar:
		return TypeJar
	}
	return TypeZip
}

func pick(c bool, yes, no string) string {
	if c {
		return yes
	}
	return no
}

// ooxml collects what an Office Open XML package reveals beyond its member
// contents: part names and relationship parts. For any other zip kind it is
// inert.
type ooxml struct {
	kind      string
	on        bool // kind is an OOXML kind
	ownMacros bool // the package itself (not an embedded one) carries macros
}

func newOOXML(kind string) *ooxml {
	switch kind {
	case TypeDocx, TypeDocm, TypeXlsx, TypeXlsm, TypePptx, TypePptm:
		return &ooxml{kind: kind, on: true}
	}
	return &ooxml{kind: kind}
}

// nameSignals applies the part-name rules of the research (§7): a VBA
// project (*/vbaProject.bin, vbaData.xml), XLM macro sheets, ActiveX
// controls, embedded OLE objects and external workbook links.
func (d *ooxml) nameSignals(rep *Report, name string) {
	if !d.on {
		return
	}
	l := strings.ToLower(name)
	base := path.Base(l)
	switch {
	case base == "vbaproject.bin" || base == "vbadata.xml" || strings.HasPrefix(l, "xl/macrosheets/"):
		rep.Macros, d.ownMacros = true, true
	case strings.Contains(l, "/activex/"):
		rep.addActive(ActiveX)
	case strings.Contains(l, "/embeddings/") && strings.HasPrefix(base, "oleobject") && strings.HasSuffix(base, ".bin"):
		rep.addActive(OLEObject)
	case strings.HasPrefix(l, "xl/externallinks/"):
		rep.addActive(ExternalLink)
	}
}

// isEmbedding reports parts that are files embedded in the document; they
// are always listed in Entries, being attachments within the attachment.
func (d *ooxml) isEmbedding(name string) bool {
	return d.on && strings.Contains(strings.ToLower(name), "/embeddings/")
}

// keep says how much of a part to keep for scan: relationship parts
// everywhere, Word parts that hold fields, and Excel external links.
func (d *ooxml) keep(name string) int64 {
	if !d.on {
		return 0
	}
	l := strings.ToLower(name)
	switch {
	case strings.HasSuffix(l, ".rels"):
		return relsCap
	case isWordFieldPart(l):
		return partCap
	case strings.HasPrefix(l, "xl/externallinks/") && strings.HasSuffix(l, ".xml"):
		return relsCap
	}
	return 0
}

// isWordFieldPart lists the Word parts where fields (and so DDE) can live.
func isWordFieldPart(l string) bool {
	if !strings.HasPrefix(l, "word/") || !strings.HasSuffix(l, ".xml") {
		return false
	}
	base := path.Base(l)
	for _, p := range []string{"document", "header", "footer", "footnotes", "endnotes", "comments"} {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	return false
}

// scan inspects a kept part.
func (d *ooxml) scan(rep *Report, name string, data []byte) {
	l := strings.ToLower(name)
	text := xmlText(data)
	switch {
	case strings.HasSuffix(l, ".rels"):
		d.scanRels(rep, text)
	case isWordFieldPart(l):
		if hasDDEField(text) {
			rep.addActive(DDE)
		}
	case strings.HasPrefix(l, "xl/externallinks/"):
		eachTag(text, func(t xmlTag) bool {
			switch {
			case t.close:
			case t.local == "ddeLink":
				rep.addActive(DDE)
			case t.local == "oleLink":
				rep.addActive(OLEObject)
			}
			return true
		})
	}
}

// scanRels reads relationship parts. Types are matched on their last path
// segment, which is stable across the transitional and strict namespaces.
func (d *ooxml) scanRels(rep *Report, text []byte) {
	eachTag(text, func(t xmlTag) bool {
		if t.close || t.local != "Relationship" {
			return true
		}
		typ := strings.ToLower(path.Base(attr(t.attrs, "Type")))
		external := strings.EqualFold(strings.TrimSpace(attr(t.attrs, "TargetMode")), "External")
		switch typ {
		case "attachedtemplate", "frame", "subdocument":
			// Documents made from a template on the author's disk carry
			// attachedTemplate -> file:///C:/...Normal.dotm: not a finding.
			if external && isRemoteTarget(attr(t.attrs, "Target")) {
				rep.addActive(RemoteTemplate)
			}
		case "oleobject":
			// Internal ones are embeddings; external ones are how Follina
			// (CVE-2022-30190) fetched its payload.
			rep.addActive(OLEObject)
		case "externallink", "externallinkpath":
			rep.addActive(ExternalLink)
		case "control", "activexcontrolbinary":
			rep.addActive(ActiveX)
		case "vbaproject", "wordvbadata", "xlmacrosheet", "xlintlmacrosheet":
			// Catches a VBA part under a name other than vbaProject.bin.
			rep.Macros, d.ownMacros = true, true
		}
		return true
	})
}

// isRemoteTarget reports targets fetched from elsewhere: URLs, UNC paths
// (which also leak NTLM hashes) and file URLs naming a host.
func isRemoteTarget(t string) bool {
	t = strings.ToLower(strings.TrimSpace(t))
	for _, p := range []string{"http:", "https:", "ftp:", "mhtml:", `\\`, "//", "file:\\\\"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	if rest, ok := strings.CutPrefix(t, "file://"); ok {
		return !strings.HasPrefix(rest, "/") && !strings.HasPrefix(rest, `\`) && !isDrivePath(rest)
	}
	return false
}

// isDrivePath matches "c:..." after file://, a local path some writers emit
// without the third slash.
func isDrivePath(s string) bool {
	return len(s) >= 2 && s[1] == ':' && (s[0] >= 'a' && s[0] <= 'z')
}

// refine upgrades the kind when relationships revealed a VBA project under
// another name than vbaProject.bin.
func (d *ooxml) refine(kind string) string {
	if !d.ownMacros {
		return kind
	}
	switch kind {
	case TypeDocx:
		return TypeDocm
	case TypeXlsx:
		return TypeXlsm
	case TypePptx:
		return TypePptm
	}
	return kind
}

// hasDDEField reports a Word field whose code starts with DDE or DDEAUTO.
// Field codes are split across runs (<w:instrText>DD</w:instrText> ...
// <w:instrText>EAUTO</w:instrText>) to evade naive searches, so the code is
// rebuilt between fldChar begin and separate/end, and fldSimple's instr
// attribute is checked too. Only the first word matters, so each code keeps
// at most a few bytes.
func hasDDEField(text []byte) bool {
	const keepCode = 16
	const maxNesting = 64
	var codes []string // open fields, innermost last
	found := false
	check := func(code string) {
		f := strings.Fields(code)
		if len(f) > 0 {
			w := strings.ToUpper(f[0])
			found = found || w == "DDE" || w == "DDEAUTO"
		}
	}
	eachTag(text, func(t xmlTag) bool {
		switch {
		case t.local == "fldChar" && !t.close:
			switch attr(t.attrs, "fldCharType") {
			case "begin":
				if len(codes) < maxNesting {
					codes = append(codes, "")
				}
			case "separate", "end":
				if len(codes) > 0 {
					check(codes[len(codes)-1])
					codes = codes[:len(codes)-1]
				}
			}
		case t.local == "instrText" && !t.close && !t.empty:
			s := html.UnescapeString(string(t.text))
			if len(codes) == 0 {
				check(s)
				break
			}
			c := codes[len(codes)-1]
			if c == "" {
				s = strings.TrimLeft(s, " \t\r\n")
			}
			c += s
			if len(c) > keepCode {
				c = c[:keepCode]
			}
			codes[len(codes)-1] = c
		case t.local == "fldSimple" && !t.close:
			check(attr(t.attrs, "instr"))
		}
		return !found
	})
	return found
}

// xmlText returns the part as UTF-8. Office accepts UTF-16 parts, which a
// byte search for ASCII markup would otherwise miss.
func xmlText(b []byte) []byte {
	var order binary.ByteOrder
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		order, b = binary.LittleEndian, b[2:]
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		order, b = binary.BigEndian, b[2:]
	case len(b) >= 4 && b[0] == '<' && b[1] == 0 && b[2] != 0 && b[3] == 0:
		order = binary.LittleEndian
	case len(b) >= 4 && b[0] == 0 && b[1] == '<' && b[2] == 0 && b[3] != 0:
		order = binary.BigEndian
	default:
		return bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = order.Uint16(b[2*i:])
	}
	return []byte(string(utf16.Decode(u)))
}

// xmlTag is one tag found by eachTag.
type xmlTag struct {
	local string // element name without prefix
	attrs []byte // raw attribute text
	close bool   // </name>
	empty bool   // <name/>
	text  []byte // character data up to the next tag
}

// eachTag is a forgiving scanner over XML markup: it needs no well-formed
// document (Office tolerates less than encoding/xml insists on, and attackers
// know it) and costs one pass. Comments, processing instructions and
// declarations are skipped; quoted attribute values may contain '>'.
func eachTag(b []byte, fn func(xmlTag) bool) {
	i := 0
	for {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			return
		}
		i += j
		rest := b[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			i = skipPast(b, i, "-->")
			continue
		case bytes.HasPrefix(rest, []byte("<?")):
			i = skipPast(b, i, "?>")
			continue
		case bytes.HasPrefix(rest, []byte("<!")):
			i = skipPast(b, i, ">")
			continue
		}
		end := tagEnd(b, i+1)
		if end < 0 {
			i++ // not a tag after all; keep scanning
			continue
		}
		t := xmlTag{}
		inner := b[i+1 : end]
		if len(inner) > 0 && inner[0] == '/' {
			t.close, inner = true, inner[1:]
		}
		if len(inner) > 0 && inner[len(inner)-1] == '/' {
			t.empty, inner = true, inner[:len(inner)-1]
		}
		nameEnd := bytes.IndexAny(inner, " \t\r\n")
		if nameEnd < 0 {
			nameEnd = len(inner)
		}
		name := inner[:nameEnd]
		if k := bytes.LastIndexByte(name, ':'); k >= 0 {
			name = name[k+1:]
		}
		t.local, t.attrs = string(name), inner[nameEnd:]
		next := bytes.IndexByte(b[end+1:], '<')
		if next < 0 {
			next = len(b) - end - 1
		}
		t.text = b[end+1 : end+1+next]
		if !fn(t) {
			return
		}
		i = end + 1
	}
}

// skipPast returns the index after the first marker at or after i, or the
// end of b.
func skipPast(b []byte, i int, marker string) int {
	k := bytes.Index(b[i:], []byte(marker))
	if k < 0 {
		return len(b)
	}
	return i + k + len(marker)
}

// maxTagLen bounds one tag so that markup without a closing '>' cannot make
// the scan quadratic.
const maxTagLen = 64 << 10

// tagEnd finds the '>' closing a tag that starts before i, outside quotes.
func tagEnd(b []byte, i int) int {
	var quote byte
	stop := min(len(b), i+maxTagLen)
	for ; i < stop; i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		case c == '<':
			return -1 // unterminated tag
		}
	}
	return -1
}

// attr returns the unescaped value of the attribute whose local name is
// name, or "". Entity-encoded values (TargetMode="&#69;xternal") are decoded
// because Office decodes them.
func attr(attrs []byte, name string) string {
	s := attrs
	for len(s) > 0 {
		s = bytes.TrimLeft(s, " \t\r\n")
		eq := bytes.IndexByte(s, '=')
		if eq < 0 {
			return ""
		}
		key := bytes.TrimSpace(s[:eq])
		if k := bytes.LastIndexByte(key, ':'); k >= 0 {
			key = key[k+1:]
		}
		s = bytes.TrimLeft(s[eq+1:], " \t\r\n")
		if len(s) == 0 || (s[0] != '"' && s[0] != '\'') {
			return ""
		}
		q := s[0]
		endq := bytes.IndexByte(s[1:], q)
		if endq < 0 {
			return ""
		}
		val := s[1 : 1+endq]
		s = s[2+endq:]
		if string(key) == name {
			return html.UnescapeString(string(val))
		}
	}
	return ""
}
