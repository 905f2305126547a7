package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/mail"
	"slices"
	"strconv"
	"strings"
)

// Fields of the DAT that tie a row to its record; the verifier needs them.
var datKeyFields = []string{"BEGBATES", "ENDBATES", "CUSTODIAN", "SHA256HASH", "NATIVEPATH", "TEXTPATH", "RECORDID", "LEAFINDEX"}

// checkDAT requires one row per record, each naming the record's control
// number, custodian, native and text paths, native hash and leaf index.
func (v *verification) checkDAT() {
	if _, ok := v.found[DATFile]; !ok {
		return // reported as missing
	}
	b, err := v.readFile(DATFile, MaxDATBytes)
	if err != nil {
		v.r.problem(ProblemDAT, DATFile, "%v", err)
		return
	}
	d, err := ParseDAT(bytes.NewReader(b))
	if err != nil {
		v.r.problem(ProblemDAT, DATFile, "%v", err)
		return
	}
	col := map[string]int{}
	for _, f := range datKeyFields {
		if col[f] = d.Index(f); col[f] < 0 {
			v.r.problem(ProblemDAT, DATFile, "the header has no %s field", f)
			return
		}
	}
	byID := make(map[string]int, len(v.m.Records))
	for i, e := range v.m.Records {
		byID[e.ID] = i
	}
	seen := map[string]bool{}
	for n, row := range d.Rows {
		v.r.Counts.DATRows++
		where := fmt.Sprintf("%s row %d", DATFile, n+2)
		id := row[col["RECORDID"]]
		i, ok := byID[id]
		if !ok {
			v.r.problem(ProblemDAT, where, "record %q is not in the manifest", truncate(id))
			continue
		}
		if seen[id] {
			v.r.problem(ProblemDAT, where, "record %s has a second row", id)
			continue
		}
		seen[id] = true
		e := &v.m.Records[i]
		want := map[string]string{
			"BEGBATES": e.Bates, "ENDBATES": e.Bates, "CUSTODIAN": datNormalize(e.Custodian),
			"NATIVEPATH": e.Native, "TEXTPATH": e.Text, "LEAFINDEX": strconv.FormatUint(e.LeafIndex, 10),
		}
		if v.valid[i] {
			want["SHA256HASH"] = v.leaves[i].RecordSHA256
		}
		for _, f := range datKeyFields {
			w, check := want[f]
			if !check {
				continue
			}
			got := row[col[f]]
			if f == "NATIVEPATH" || f == "TEXTPATH" {
				got = slashPath(got)
			}
			if got != w {
				v.r.problem(ProblemDAT, where, "%s is %q, the manifest says %q for record %s", f, truncate(got), truncate(w), id)
			}
		}
	}
	for _, e := range v.m.Records {
		if !seen[e.ID] {
			v.r.problem(ProblemDAT, DATFile, "record %s has no row", e.ID)
		}
	}
}

// datNormalize is a value as it reads back from a load file (line breaks
// become LF, control characters spaces), for comparing with the original.
func datNormalize(s string) string {
	var b bytes.Buffer
	b.WriteRune(datQualifier)
	writeDATValue(&b, s)
	b.WriteRune(datQualifier)
	p := datParser{s: b.String()}
	out, err := p.parseValue()
	if err != nil {
		return s
	}
	return out
}

// checkEML requires each record's message to parse, with MIME parts that
// decode, and to carry the record's id, control number, leaf index and
// native hash.
func (v *verification) checkEML() error {
	var dec mime.WordDecoder
	for i := range v.m.Records {
		if err := v.ctx.Err(); err != nil {
			return fmt.Errorf("export: verifying: %w", err)
		}
		e := &v.m.Records[i]
		if _, ok := v.found[e.EML]; !ok {
			continue // reported as missing
		}
		v.r.Counts.EML++
		if err := v.checkOneEML(i, e, &dec); err != nil {
			v.r.problem(ProblemEML, e.EML, "%v", err)
		}
	}
	return nil
}

// checkOneEML checks one message, streaming it: attachments can be large.
// It reports header mismatches itself and returns what stops the check.
func (v *verification) checkOneEML(i int, e *RecordEntry, dec *mime.WordDecoder) error {
	f, err := v.fsys.Open(e.EML)
	if err != nil {
		return fmt.Errorf("unreadable: %w", err)
	}
	defer f.Close()
	msg, err := mail.ReadMessage(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("not an RFC 5322 message: %w", err)
	}
	want := map[string]string{
		HeaderRecordID: e.ID, HeaderBates: e.Bates, HeaderAccount: e.Account,
		HeaderLeafIndex: strconv.FormatUint(e.LeafIndex, 10),
	}
	if v.valid[i] {
		want[HeaderRecordSHA256] = v.leaves[i].RecordSHA256
	}
	for _, h := range []string{HeaderRecordID, HeaderBates, HeaderAccount, HeaderLeafIndex, HeaderRecordSHA256} {
		w, check := want[h]
		if !check {
			continue
		}
		got, err := dec.DecodeHeader(msg.Header.Get(h))
		if err != nil {
			got = msg.Header.Get(h)
		}
		if got != w {
			v.r.problem(ProblemEML, e.EML, "%s is %q, the manifest says %q for record %s", h, truncate(got), truncate(w), e.ID)
		}
	}
	if err := checkMIMEBody(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return fmt.Errorf("the body does not decode: %w", err)
	}
	return nil
}

// checkMIMEBody reads a body through its transfer encoding and, for
// multipart, every part, so that a damaged message is reported.
func checkMIMEBody(contentType, cte string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("Content-Type %q: %v", truncate(contentType), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for n := 0; ; n++ {
			p, err := mr.NextPart()
			if err == io.EOF {
				if n == 0 {
					return fmt.Errorf("no parts")
				}
				return nil
			}
			if err != nil {
				return err
			}
			// The multipart reader has already undone quoted-printable.
			if err := checkMIMEBody(orDefault(p.Header.Get("Content-Type"), "text/plain"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return fmt.Errorf("part %d: %w", n+1, err)
			}
		}
	}
	r := body
	if strings.EqualFold(cte, "base64") {
		r = base64.NewDecoder(base64.StdEncoding, body)
	}
	_, err = io.Copy(io.Discard, r)
	return err
}

// checkRSMF requires every RSMF file to meet the specification and its
// events to name exactly the records the manifest files under it, each
// once.
func (v *verification) checkRSMF() error {
	byFile := map[string][]string{}
	var files []string
	for _, e := range v.m.Records {
		if _, ok := byFile[e.RSMF]; !ok {
			files = append(files, e.RSMF)
		}
		byFile[e.RSMF] = append(byFile[e.RSMF], e.ID)
	}
	for _, p := range files {
		if err := v.ctx.Err(); err != nil {
			return fmt.Errorf("export: verifying: %w", err)
		}
		if _, ok := v.found[p]; !ok {
			continue // reported as missing
		}
		v.r.Counts.RSMF++
		f, err := v.fsys.Open(p)
		if err != nil {
			v.r.problem(ProblemRSMF, p, "unreadable: %v", err)
			continue
		}
		rf, err := ReadRSMF(f)
		f.Close()
		if err != nil {
			v.r.problem(ProblemRSMF, p, "%v", err)
			continue
		}
		if got := rf.Header.Get(HeaderRSMFVersion); got != RSMFVersion {
			v.r.problem(ProblemRSMF, p, "X-RSMF-Version is %q, want %s", truncate(got), RSMFVersion)
		}
		v.r.Counts.RSMFEvents += len(rf.Manifest.Events)
		count := map[string]int{}
		for _, ev := range rf.Manifest.Events {
			for _, c := range ev.Custom {
				if isRecordProp(c.Name) {
					count[c.Value]++
				}
			}
		}
		want := map[string]bool{}
		for _, id := range byFile[p] {
			want[id] = true
			if n := count[id]; n != 1 {
				v.r.problem(ProblemRSMF, p, "record %s appears in %d events, want 1", id, n)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(count)) {
			if !want[id] {
				v.r.problem(ProblemRSMF, p, "an event names record %q, which the manifest does not file under this RSMF", truncate(id))
			}
		}
	}
	return nil
}
