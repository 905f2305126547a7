// Package attach analyses chat attachments for risk: what the content really
// is (by magic bytes, not by name), executables and scripts, Office macros and
// active content, encrypted archives, zip bombs and malformed containers, and
// file-name tricks (right-to-left override, double extensions, mismatches).
//
// Every inspection is bounded by Limits: hostile input costs at most the
// limits, and is reported as findings rather than errors.
package attach

import (
	"slices"
)

// Meta is what capture.v1 records carry about an attachment even without
// content (see capture.Attachment). SHA256 is carried for evidence and is not
// re-verified here: that would read the whole attachment.
type Meta struct {
	Name, MIME string
	Size       int64
	SHA256     string
}

// Content types reported in Report.Type. The empty string means the content
// was not examined (InspectMeta, or an encrypted or skipped archive member).
const (
	TypePE      = "pe"      // MZ executable with a PE (or NE/LE) header
	TypeELF     = "elf"     // ELF executable or library
	TypeMachO   = "macho"   // Mach-O, thin or fat
	TypeClass   = "class"   // Java class file
	TypeOLE2    = "ole2"    // compound file not refined further (e.g. encrypted OOXML)
	TypeDoc     = "doc"     // Word 97-2003 (WordDocument stream)
	TypeXls     = "xls"     // Excel 97-2003 (Workbook or Book stream)
	TypePpt     = "ppt"     // PowerPoint 97-2003
	TypeMsi     = "msi"     // Windows Installer package, patch or transform
	TypeMsg     = "msg"     // Outlook message
	TypeZip     = "zip"     // zip not refined further
	TypeDocx    = "docx"    // Word OOXML without a VBA project
	TypeDocm    = "docm"    // Word OOXML with a VBA project
	TypeXlsx    = "xlsx"    // Excel OOXML without VBA or XLM macro sheets
	TypeXlsm    = "xlsm"    // Excel OOXML with VBA or XLM macro sheets
	TypePptx    = "pptx"    // PowerPoint OOXML without a VBA project
	TypePptm    = "pptm"    // PowerPoint OOXML with a VBA project
	TypeJar     = "jar"     // Java archive (META-INF/MANIFEST.MF)
	TypeAPK     = "apk"     // Android package
	TypeRar     = "rar"     // RAR 4 or 5
	Type7z      = "7z"      // 7-Zip
	TypeGzip    = "gzip"    // gzip stream
	TypeTar     = "tar"     // POSIX/GNU tar
	TypePDF     = "pdf"     // PDF
	TypeRTF     = "rtf"     // RTF (Word accepts "{\rt" as the signature)
	TypeLNK     = "lnk"     // Windows shortcut
	TypeISO     = "iso"     // ISO 9660 image
	TypeCHM     = "chm"     // compiled HTML help
	TypeScript  = "script"  // shebang, or text named as a Windows script
	TypePNG     = "png"     // PNG image
	TypeJPEG    = "jpeg"    // JPEG image
	TypeGIF     = "gif"     // GIF image
	TypeText    = "text"    // text in any encoding we could recognise
	TypeUnknown = "unknown" // content examined, not recognised
)

// Active content kinds reported in Report.ActiveContent.
const (
	ActiveX        = "activex"         // ActiveX controls (*/activeX/*)
	OLEObject      = "ole-object"      // embedded or linked OLE objects, OLE packages
	RemoteTemplate = "remote-template" // attachedTemplate/frame/subDocument loaded from outside
	DDE            = "dde"             // DDE/DDEAUTO fields, Excel DDE links
	ExternalLink   = "external-link"   // Excel external workbook links
)

// Report is the result of inspecting one attachment or archive member.
//
// Findings of nested members are also raised on their container, so the top
// level Report answers "is there a macro anywhere in this attachment"; Entries
// says where.
type Report struct {
	Type            string   // one of the Type constants, detected by content
	Executable      bool     // PE/ELF/Mach-O/scripts/lnk/msi/jar/apk/chm/iso (by content, or by extension for scripts)
	Macros          bool     // VBA project present (OOXML vbaProject.bin, OLE2 VBA storage with dir), XLM macro sheets
	ActiveContent   []string // sorted, distinct; see the active content constants
	Encrypted       bool     // encrypted zip entries, encrypted 7z/rar headers or files, encrypted Office files
	Bomb            bool     // a limit was hit: ratio/total/entries/depth, or overlapping zip local headers
	Malformed       bool     // central directory vs local header mismatch, truncated, duplicate names, bad checksums
	NameMismatch    bool     // content type disagrees with the file extension (PE named .pdf)
	DoubleExtension bool     // invoice.pdf.exe
	RTLO            bool     // U+202E or other bidi controls in the name
	Partial         bool     // inspection stopped at a limit; what was found so far is reported
	Entries         []Report // nested members of archives (bounded), with Name set
	Name            string   // attachment or member name (member path inside an archive)
}

// Flags returns stable lower-case names of the findings, for policy evidence:
// "executable", "macros", "encrypted", "bomb", "malformed", "name-mismatch",
// "double-extension", "rtlo", then each active content kind, then "partial".
// A clean attachment has no flags.
func (r Report) Flags() []string {
	var f []string
	add := func(on bool, name string) {
		if on {
			f = append(f, name)
		}
	}
	add(r.Executable, "executable")
	add(r.Macros, "macros")
	add(r.Encrypted, "encrypted")
	add(r.Bomb, "bomb")
	add(r.Malformed, "malformed")
	add(r.NameMismatch, "name-mismatch")
	add(r.DoubleExtension, "double-extension")
	add(r.RTLO, "rtlo")
	f = append(f, r.ActiveContent...)
	add(r.Partial, "partial")
	return f
}

// addActive records an active content kind once, keeping the list sorted so
// reports compare equal regardless of member order.
func (r *Report) addActive(kind string) {
	i, found := slices.BinarySearch(r.ActiveContent, kind)
	if !found {
		r.ActiveContent = slices.Insert(r.ActiveContent, i, kind)
	}
}

// absorb raises a member's findings on its container.
func (r *Report) absorb(c *Report) {
	r.Executable = r.Executable || c.Executable
	r.Macros = r.Macros || c.Macros
	r.Encrypted = r.Encrypted || c.Encrypted
	r.Bomb = r.Bomb || c.Bomb
	r.Malformed = r.Malformed || c.Malformed
	r.NameMismatch = r.NameMismatch || c.NameMismatch
	r.DoubleExtension = r.DoubleExtension || c.DoubleExtension
	r.RTLO = r.RTLO || c.RTLO
	r.Partial = r.Partial || c.Partial
	for _, a := range c.ActiveContent {
		r.addActive(a)
	}
}

// notable reports whether a member deserves a place in Entries of a document
// or application package, where most members are internal parts whose
// listing would only bury the finding.
func (r *Report) notable(packageKind bool) bool {
	return r.Macros || len(r.ActiveContent) > 0 || r.Encrypted || r.Bomb ||
		r.Malformed || r.NameMismatch || r.DoubleExtension || r.RTLO ||
		r.Partial || len(r.Entries) > 0 || (r.Executable && !packageKind)
}
