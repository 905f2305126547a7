package attach

import (
	"mime"
	"strings"
)

// extSet builds a set from a space-separated list of extensions.
func extSet(lists ...string) map[string]bool {
	s := map[string]bool{}
	for _, l := range lists {
		for _, e := range strings.Fields(l) {
			s[e] = true
		}
	}
	return s
}

// Extension lists. Each is the set a content type may legitimately carry; an
// extension outside every list is unknown to us and never a mismatch, so
// generic ones (.bin .dat .db .key) are deliberately absent.
const (
	extsPE     = ".exe .dll .scr .com .sys .cpl .ocx .drv .efi .mui .ax .pif .xll .node .pyd .tlb"
	extsELF    = ".so .elf .ko .axf .prx .run .appimage"
	extsMachO  = ".dylib .bundle .so"
	extsZip    = ".zip .zipx .ofd .epub .odt .ods .odp .odg .vsdx .xps .oxps .kmz .xpi .whl .nupkg .3mf .cbz .ipa .appx .msix .aar .pages .numbers .usdz .sketch"
	extsWord   = ".docx .docm .dotx .dotm"
	extsWordM  = ".docm .dotm"
	extsExcel  = ".xlsx .xlsm .xltx .xltm .xlsb .xlam"
	extsExcelM = ".xlsm .xltm .xlsb .xlam"
	extsPpt    = ".pptx .pptm .potx .potm .ppsx .ppsm .ppam .sldx"
	extsPptM   = ".pptm .potm .ppsm .ppam"
	// Kingsoft WPS (.wps .et .dps), common in mainland China, and Hangul
	// (.hwp) are compound files too.
	extsOLEOffice = ".doc .dot .xls .xlt .xla .ppt .pps .pot .wps .wpt .et .ett .dps .dpt .pub .vsd .vss .vst .mpp .hwp"
	extsMsi       = ".msi .msp .mst"
	extsMsg       = ".msg .oft"
	extsImage     = ".png .jpg .jpeg .jpe .jfif .gif .bmp .webp .heic .heif .tif .tiff .ico"
	// Scripts Windows runs by extension (Windows Script Host, PowerShell,
	// cmd, mshta).
	extsScript = ".js .jse .vbs .vbe .wsf .wsh .hta .ps1 .psm1 .bat .cmd .sct .vb"
	extsUnix   = ".sh .bash .zsh .ksh .py .pl .rb .php .command"
	// Text formats. Web applications routinely export HTML or CSV named .xls
	// or .doc, so those are not a mismatch for text.
	extsText = ".txt .text .csv .tsv .log .md .json .xml .html .htm .xhtml .mht .mhtml .eml .ics .vcf .yaml .yml .ini .cfg .conf .toml .srt .svg .css .sql .tex .rst .properties .reg .inf .rels .doc .xls .rtf"
	// extsExec is the executable class of the research (§7) plus close kin
	// (.pif .cpl .msc .wsh .sct .psm1 .vb .vhd .vhdx .appx .msix .xll).
	extsExec = ".exe .scr .com .bat .cmd .js .jse .vbs .vbe .wsf .wsh .hta .ps1 .psm1 .chm .apk .jar .msi .dll .iso .img .lnk .pif .cpl .msc .sct .vb .vhd .vhdx .appx .msix .xll"
	// extsDecoy are what a double extension pretends to be.
	extsDecoy = ".pdf .doc .docx .docm .xls .xlsx .xlsm .ppt .pptx .pptm .rtf .txt .csv .jpg .jpeg .png .gif .bmp .tif .tiff .webp .heic .mp3 .mp4 .avi .mov .wmv .wav .mkv .flv .zip .rar .7z .htm .html .odt .ods .wps .et .dps .ofd .xml .json"
)

var (
	execExts   = extSet(extsExec)
	scriptExts = extSet(extsScript)
	decoyExts  = extSet(extsDecoy)

	// compatExts maps a content type to the extensions it may carry.
	compatExts = map[string]map[string]bool{
		TypePE:     extSet(extsPE),
		TypeELF:    extSet(extsELF),
		TypeMachO:  extSet(extsMachO),
		TypeClass:  extSet(".class"),
		TypeZip:    extSet(extsZip),
		TypeDocx:   extSet(extsWord),
		TypeDocm:   extSet(extsWordM),
		TypeXlsx:   extSet(extsExcel),
		TypeXlsm:   extSet(extsExcelM),
		TypePptx:   extSet(extsPpt),
		TypePptm:   extSet(extsPptM),
		TypeJar:    extSet(".jar .war .ear"),
		TypeAPK:    extSet(".apk .xapk .apks .aab"),
		TypeDoc:    extSet(extsOLEOffice),
		TypeXls:    extSet(extsOLEOffice),
		TypePpt:    extSet(extsOLEOffice),
		TypeMsi:    extSet(extsMsi),
		TypeMsg:    extSet(extsMsg),
		TypeOLE2:   extSet(extsOLEOffice, extsMsi, extsMsg, extsWord, extsExcel, extsPpt, ".suo"), // encrypted OOXML is a compound file
		TypeRar:    extSet(".rar .cbr"),
		Type7z:     extSet(".7z .cb7"),
		TypeGzip:   extSet(".gz .tgz .gzip .svgz .emz .wmz"),
		TypeTar:    extSet(".tar .ova"),
		TypePDF:    extSet(".pdf .ai"),
		TypeRTF:    extSet(".rtf"),
		TypeLNK:    extSet(".lnk"),
		TypeISO:    extSet(".iso .img .udf"),
		TypeCHM:    extSet(".chm"),
		TypePNG:    extSet(extsImage),
		TypeJPEG:   extSet(extsImage),
		TypeGIF:    extSet(extsImage),
		TypeScript: extSet(extsScript, extsUnix, extsText),
		TypeText:   extSet(extsText, extsScript, extsUnix),
	}

	// knownExts is every extension we can judge; see nameMismatch.
	knownExts = func() map[string]bool {
		k := extSet(extsExec)
		for _, s := range compatExts {
			for e := range s {
				k[e] = true
			}
		}
		return k
	}()

	// execMIMEs are declared types that mean "program" whatever the name.
	execMIMEs = map[string]bool{
		"application/x-msdownload":                      true,
		"application/x-msdos-program":                   true,
		"application/x-dosexec":                         true,
		"application/vnd.microsoft.portable-executable": true,
		"application/x-executable":                      true,
		"application/x-elf":                             true,
		"application/x-mach-binary":                     true,
		"application/x-msi":                             true,
		"application/x-ms-installer":                    true,
		"application/java-archive":                      true,
		"application/x-java-archive":                    true,
		"application/vnd.android.package-archive":       true,
		"application/x-ms-shortcut":                     true,
		"application/x-sh":                              true,
		"application/x-bat":                             true,
		"application/hta":                               true,
		"application/x-iso9660-image":                   true,
	}
)

// isBidi reports Unicode bidirectional controls: the embeddings and
// overrides U+202A..U+202E (U+202E, RLO, turns "gpj.exe" into "exe.jpg" on
// screen), the isolates U+2066..U+2069, and the marks LRM, RLM and ALM.
func isBidi(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 ||
		r == 0x200E || r == 0x200F || r == 0x061C
}

// isInvisible reports characters that render as nothing; they are removed
// before extensions are compared so "a.ex\u200be" cannot hide ".exe".
func isInvisible(r rune) bool {
	return isBidi(r) || r >= 0x200B && r <= 0x200D || r == 0x2060 || r == 0xFEFF
}

func hasBidi(name string) bool {
	return strings.IndexFunc(name, isBidi) >= 0
}

// baseName is the last path component; archive members use either separator.
func baseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		return name[i+1:]
	}
	return name
}

// exts returns the lower-case last extension of a name and the one before
// it, as Windows sees them: invisible characters dropped, trailing dots and
// spaces trimmed (Windows strips them when it creates the file), and spaces
// before the last dot ignored ("invoice.pdf      .exe").
func exts(name string) (last, prev string) {
	n := strings.Map(func(r rune) rune {
		if isInvisible(r) {
			return -1
		}
		return r
	}, baseName(name))
	n = strings.ToLower(strings.TrimRight(n, ". "))
	i := strings.LastIndexByte(n, '.')
	if i <= 0 {
		return "", ""
	}
	last, n = n[i:], strings.TrimRight(n[:i], ". ")
	if j := strings.LastIndexByte(n, '.'); j > 0 {
		prev = n[j:]
	}
	return last, prev
}

// ext is the lower-case extension with its dot, or "".
func ext(name string) string {
	e, _ := exts(name)
	return e
}

// isDoubleExtension flags a decoy extension followed by an executable one.
// Requiring the decoy keeps "setup-1.2.exe" and "archive.tar.gz" quiet.
func isDoubleExtension(name string) bool {
	last, prev := exts(name)
	return execExts[last] && decoyExts[prev]
}

// nameMismatch reports content whose type the extension misrepresents. Only
// extensions we can judge count; unknown content never mismatches.
func nameMismatch(typ, name string) bool {
	e := ext(name)
	if e == "" || !knownExts[e] {
		return false
	}
	ok, judged := compatExts[typ]
	return judged && !ok[e]
}

// nameReport starts a report with the findings a name alone gives.
func nameReport(name string) Report {
	return Report{Name: name, RTLO: hasBidi(name), DoubleExtension: isDoubleExtension(name)}
}

// InspectMeta checks what needs no content: name tricks (bidi controls,
// double extensions), the extension's class (an executable or script
// extension, or an executable declared MIME type, sets Executable) and the
// declared size (negative is Malformed). Type is left empty: nothing was
// examined.
func InspectMeta(m Meta) Report {
	r := nameReport(m.Name)
	r.Executable = execExts[ext(m.Name)] || execMIMEs[mediaType(m.MIME)]
	r.Malformed = m.Size < 0
	return r
}

// mediaType drops parameters and case from a declared MIME type.
func mediaType(s string) string {
	if s == "" {
		return ""
	}
	if t, _, err := mime.ParseMediaType(s); err == nil {
		return t
	}
	return strings.ToLower(strings.TrimSpace(s))
}
