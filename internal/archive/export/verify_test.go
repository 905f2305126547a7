package export

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// copyDir copies an export folder so a test can damage it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o640)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func readManifestFile(t *testing.T, dir string) *Manifest {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ReadManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// writeManifest writes m as the export's manifest, with or without a
// matching manifest.sha256.
func writeManifest(t *testing.T, dir string, m *Manifest, withSum bool) {
	t.Helper()
	body, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), body, 0o640); err != nil {
		t.Fatal(err)
	}
	if withSum {
		if err := os.WriteFile(filepath.Join(dir, ManifestSHA256File), manifestSHA256Line(sha256Hex(body)), 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

// reseal does what a forger holding the whole export would: apply change to
// the manifest, rehash every file still present, and rewrite manifest.json
// and manifest.sha256 to match. Whatever Verify still finds, it finds
// through the log, not through the manifest's own hashes.
func reseal(t *testing.T, dir string, change func(m *Manifest)) {
	t.Helper()
	m := readManifestFile(t, dir)
	if change != nil {
		change(m)
	}
	var files []FileEntry
	for _, f := range m.Files {
		got, err := hashFile(os.DirFS(dir), f.Path, nil)
		if err != nil {
			continue
		}
		files = append(files, got)
	}
	m.Files = files
	writeManifest(t, dir, m, true)
}

func editFile(t *testing.T, dir, name string, edit func([]byte) []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	out := edit(slices.Clone(b))
	if bytes.Equal(out, b) {
		t.Fatalf("editing %s changed nothing", name)
	}
	if err := os.WriteFile(p, out, 0o640); err != nil {
		t.Fatal(err)
	}
}

func replaceOnce(old, new string) func([]byte) []byte {
	return func(b []byte) []byte { return bytes.Replace(b, []byte(old), []byte(new), 1) }
}

// TestVerifyFindsEachChange damages a valid export in one way at a time and
// checks that Verify names the problem, by kind, and nothing unrelated.
func TestVerifyFindsEachChange(t *testing.T) {
	f := buildFixture(t)
	clean, _ := f.exportDir(t, f.options(AllFormats...))
	m := readManifestFile(t, clean)
	rec0, rec1 := m.Records[0], m.Records[1]
	var waDay1, waDay2 string
	for _, r := range m.Records {
		if strings.Contains(r.RSMF, "whatsapp") {
			if strings.Contains(r.RSMF, "2026-03-02") {
				waDay1 = r.RSMF
			} else {
				waDay2 = r.RSMF
			}
		}
	}
	other, err := tlog.GenerateSigner(testOrigin, bytes.NewReader(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		origin string
		// want are the kinds reported; exact requires no other kind.
		want  []ProblemKind
		exact bool
	}{
		{"one byte of a native changed", func(t *testing.T, dir string) {
			editFile(t, dir, rec0.Native, replaceOnce("三點", "四點"))
		}, "", []ProblemKind{ProblemFileHash, ProblemRecord}, true},
		{"a native changed and the manifest resealed", func(t *testing.T, dir string) {
			editFile(t, dir, rec0.Native, replaceOnce("三點", "四點"))
			reseal(t, dir, nil)
		}, "", []ProblemKind{ProblemRecord}, true},
		{"findings deleted and the manifest resealed", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, filepath.FromSlash(rec0.Findings)))
			reseal(t, dir, func(m *Manifest) { m.Records[0].Findings = "" })
		}, "", []ProblemKind{ProblemRecord}, true},
		{"a manifest entry changed", func(t *testing.T, dir string) {
			m := readManifestFile(t, dir)
			m.Records[0].LeafIndex = rec1.LeafIndex + 1
			writeManifest(t, dir, m, false)
		}, "", []ProblemKind{ProblemManifest, ProblemProof, ProblemDAT, ProblemEML}, true},
		{"a proof hash changed and the manifest resealed", func(t *testing.T, dir string) {
			reseal(t, dir, func(m *Manifest) { m.Records[1].Proof[0][5] ^= 0x40 })
		}, "", []ProblemKind{ProblemProof}, true},
		{"the checkpoint root changed and the manifest resealed", func(t *testing.T, dir string) {
			reseal(t, dir, func(m *Manifest) {
				lines := strings.Split(m.Checkpoint, "\n")
				lines[2] = tlog.EmptyRoot().String()[:43] + "="
				m.Checkpoint = strings.Join(lines, "\n")
			})
		}, "", []ProblemKind{ProblemCheckpoint}, true},
		{"the checkpoint re-signed with another key", func(t *testing.T, dir string) {
			reseal(t, dir, func(m *Manifest) {
				cp, err := tlog.SignCheckpoint(tlog.Checkpoint{Origin: testOrigin, Size: f.tree.Size(), Root: f.tree.Root()}, other)
				if err != nil {
					t.Fatal(err)
				}
				m.Checkpoint = string(cp)
			})
		}, "", []ProblemKind{ProblemCheckpoint}, true},
		{"another origin pinned", func(t *testing.T, dir string) {}, "archive.example.com/tenant-b",
			[]ProblemKind{ProblemCheckpoint}, true},
		{"a DAT row changed and the manifest resealed", func(t *testing.T, dir string) {
			editFile(t, dir, DATFile, replaceOnce("þ"+rec1.Bates+"þ", "þVIG00000099þ"))
			reseal(t, dir, nil)
		}, "", []ProblemKind{ProblemDAT}, true},
		{"a DAT row deleted and the manifest resealed", func(t *testing.T, dir string) {
			editFile(t, dir, DATFile, func(b []byte) []byte {
				lines := bytes.SplitAfter(b, []byte("\r\n"))
				return bytes.Join(slices.Delete(lines, 2, 3), nil)
			})
			reseal(t, dir, nil)
		}, "", []ProblemKind{ProblemDAT}, true},
		{"an EML header changed and the manifest resealed", func(t *testing.T, dir string) {
			editFile(t, dir, rec1.EML, replaceOnce("X-Vigil-Leaf-Index: 2", "X-Vigil-Leaf-Index: 7"))
			reseal(t, dir, nil)
		}, "", []ProblemKind{ProblemEML}, true},
		{"one RSMF copied over another and the manifest resealed", func(t *testing.T, dir string) {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(waDay2)))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, filepath.FromSlash(waDay1)), b, 0o640)
			reseal(t, dir, nil)
		}, "", []ProblemKind{ProblemRSMF}, true},
		{"the rsmf.zip of an RSMF damaged and the manifest resealed", func(t *testing.T, dir string) {
			editFile(t, dir, rec0.RSMF, func(b []byte) []byte {
				i := bytes.Index(b, []byte("filename=rsmf.zip"))
				j := i + bytes.Index(b[i:], []byte("\r\n\r\n")) + 200
				b[j] = map[bool]byte{true: 'B', false: 'A'}[b[j] == 'A']
				return b
			})
			reseal(t, dir, nil)
		}, "", []ProblemKind{ProblemRSMF}, true},
		{"attachment content changed and the manifest resealed", func(t *testing.T, dir string) {
			editFile(t, dir, rec1.Attachments[0].Path, replaceOnce("quotation", "quotatioN"))
			reseal(t, dir, nil)
		}, "", []ProblemKind{ProblemAttachment}, true},
		{"a record dropped from the manifest", func(t *testing.T, dir string) {
			reseal(t, dir, func(m *Manifest) { m.Records = m.Records[1:] })
		}, "", []ProblemKind{ProblemManifest, ProblemDAT, ProblemRSMF}, true},
		{"a file deleted", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, filepath.FromSlash(rec0.EML)))
		}, "", []ProblemKind{ProblemFileMissing}, true},
		{"a file added", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "natives", "01KJPWD6M0N34YA28STMCTG4AZ.json"), []byte("{}"), 0o640)
		}, "", []ProblemKind{ProblemFileExtra}, true},
		{"a symlink added", func(t *testing.T, dir string) {
			if err := os.Symlink("/etc/hostname", filepath.Join(dir, "eml", "link.eml")); err != nil {
				t.Fatal(err)
			}
		}, "", []ProblemKind{ProblemFileExtra}, true},
		{"manifest.sha256 deleted", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, ManifestSHA256File))
		}, "", []ProblemKind{ProblemManifest}, true},
		{"manifest.json unreadable JSON", func(t *testing.T, dir string) {
			editFile(t, dir, ManifestFile, replaceOnce(`"records"`, `"recordz"`))
		}, "", []ProblemKind{ProblemManifest}, true},
		{"several changes at once", func(t *testing.T, dir string) {
			editFile(t, dir, rec0.Native, replaceOnce("三點", "四點"))
			os.Remove(filepath.Join(dir, filepath.FromSlash(rec1.EML)))
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o640)
		}, "", []ProblemKind{ProblemFileHash, ProblemRecord, ProblemFileMissing, ProblemFileExtra}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, clean)
			c.damage(t, dir)
			origin := testOrigin
			if c.origin != "" {
				origin = c.origin
			}
			rep, err := VerifyDir(context.Background(), dir, origin, f.verifiers())
			if err != nil {
				t.Fatal(err)
			}
			kinds := rep.Kinds()
			var text strings.Builder
			rep.WriteText(&text)
			for _, k := range c.want {
				if kinds[k] == 0 {
					t.Errorf("no %s problem reported:\n%s", k, text.String())
				}
			}
			if c.exact {
				for k := range kinds {
					if !slices.Contains(c.want, k) {
						t.Errorf("unexpected %s problem:\n%s", k, text.String())
					}
				}
			}
			if rep.OK() || !strings.Contains(text.String(), "PROBLEMS:") {
				t.Errorf("the report does not fail:\n%s", text.String())
			}
		})
	}
}

// TestVerifyZipRefusesDuplicateNames: a zip, unlike a folder, can hold two
// entries of one name, and a reader could be shown either.
func TestVerifyZipRefusesDuplicateNames(t *testing.T) {
	f := buildFixture(t)
	var src bytes.Buffer
	if _, err := Export(context.Background(), NewZipSink(&src), f.options(FormatEML), Items(f.items)); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(src.Bytes()), int64(src.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		if err := zw.Copy(zf); err != nil {
			t.Fatal(err)
		}
	}
	w, _ := zw.Create(zr.File[0].Name)
	io.WriteString(w, "a second copy")
	zw.Close()
	rep, err := VerifyZip(context.Background(), bytes.NewReader(out.Bytes()), int64(out.Len()), testOrigin, f.verifiers())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kinds()[ProblemFileExtra] == 0 {
		t.Errorf("duplicate zip entry not reported: %v", rep.Problems)
	}
	rep, _ = VerifyZip(context.Background(), bytes.NewReader([]byte("not a zip")), 9, testOrigin, f.verifiers())
	if rep.OK() {
		t.Error("a non-zip verified")
	}
}

func TestReportText(t *testing.T) {
	r := &Report{Source: "dir", ExportID: "P-1", Counts: VerifyCounts{Records: 2}}
	r.problem(ProblemRecord, "record X", "altered")
	r.problem(ProblemDAT, "export.dat row 3", "missing")
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 PROBLEMS:", "  record: record X: altered\n", "  dat: export.dat row 3: missing\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if got := slices.Sorted(maps.Keys(r.Kinds())); !slices.Equal(got, []ProblemKind{ProblemDAT, ProblemRecord}) {
		t.Errorf("kinds %v", got)
	}
}
