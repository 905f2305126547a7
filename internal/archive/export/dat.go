package export

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/capture"
)

// Concordance load-file delimiters, the defaults of Concordance and of
// Relativity's importer: fields are separated by DC4 (ASCII 20, shown as ¶),
// every value is enclosed in þ (ASCII 254) and line breaks inside a value
// are written as ® (ASCII 174). The file is UTF-8 with a byte-order mark, so
// þ and ® are two bytes each (C3 BE, C2 AE) and the BOM tells importers so.
const (
	datSeparator = '\x14'
	datQualifier = 'þ'
	datNewline   = '®'
	utf8BOM      = "\ufeff"
	// datMultiValue separates the values of a multi-value field (TO).
	datMultiValue = "; "
)

// datFields is the header row. The Bates range is one number a record: each
// record is one document of one page.
var datFields = []string{
	"BEGBATES", "ENDBATES", "CUSTODIAN", "ACCOUNT", "FROM", "TO", "DATESENT", "TIMESENT",
	"CONVERSATION", "CHANNEL", "KIND", "SHA256HASH", "NATIVEPATH", "TEXTPATH", "RECORDID", "LEAFINDEX",
}

// datRow is a record's row, in datFields order. Dates and times are UTC;
// paths are relative to the load file, in the Windows form review platforms
// expect. SHA256HASH is the hash of the native file, which is the leaf's
// recordSHA256.
func datRow(rec *capture.Record, e *RecordEntry, recordSHA string) []string {
	to := make([]string, len(rec.Recipients))
	for i, p := range rec.Recipients {
		to[i] = participantLabel(p)
	}
	sent := rec.SentAt.UTC()
	return []string{
		e.Bates, e.Bates, e.Custodian, e.Account, participantLabel(rec.Sender), strings.Join(to, datMultiValue),
		sent.Format("01/02/2006"), sent.Format("15:04:05"), conversationLabel(rec.Conversation), rec.Channel,
		string(rec.Kind), recordSHA, datPath(e.Native), datPath(e.Text), e.ID, strconv.FormatUint(e.LeafIndex, 10),
	}
}

// datPath is an export path as a load file writes it: relative, with
// backslashes.
func datPath(p string) string {
	if p == "" {
		return ""
	}
	return `.\` + strings.ReplaceAll(p, "/", `\`)
}

// slashPath undoes datPath.
func slashPath(p string) string {
	return strings.ReplaceAll(strings.TrimPrefix(p, `.\`), `\`, "/")
}

// encodeDATRow appends one row, CRLF-terminated. The first row written to
// a file gets the byte-order mark.
func encodeDATRow(b *bytes.Buffer, fields []string) {
	if b.Len() == 0 {
		b.WriteString(utf8BOM)
	}
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(datSeparator)
		}
		b.WriteRune(datQualifier)
		writeDATValue(b, f)
		b.WriteRune(datQualifier)
	}
	b.WriteString("\r\n")
}

// writeDATValue escapes a value: a line break (CRLF, LF or CR) becomes ®, a
// þ inside the value is doubled as text qualifiers are in CSV, and other
// control characters, which no importer reads back reliably, become spaces.
// A ® already in the value cannot be told from a line break by any reader:
// the native file has the value exactly.
func writeDATValue(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\r':
			b.WriteRune(datNewline)
			if i+1 < len(s) && s[i+1] == '\n' {
				size = 2
			}
		case r == '\n':
			b.WriteRune(datNewline)
		case r == datQualifier:
			b.WriteRune(datQualifier)
			b.WriteRune(datQualifier)
		case isControl(r):
			b.WriteByte(' ')
		default:
			// RuneError for a byte that is not UTF-8, so the file stays valid.
			b.WriteRune(r)
		}
		i += size
	}
}
