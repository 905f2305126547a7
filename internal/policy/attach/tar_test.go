package attach

import (
	"archive/tar"
	"bytes"
	"testing"
)

func TestTarMembers(t *testing.T) {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	add := func(h *tar.Header, data []byte) {
		h.Size = int64(len(data))
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "dir/link", Typeflag: tar.TypeSymlink, Linkname: "../../etc/passwd"}, nil)
	add(&tar.Header{Name: "dir/photo\u202Egnp.exe", Typeflag: tar.TypeReg, Mode: 0o644}, minimalPE())
	add(&tar.Header{Name: "dir/notes.txt", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("notes"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := inspectBytes(t, "bundle.tar", buf.Bytes(), DefaultLimits())
	if r.Type != TypeTar || !r.Executable || !r.RTLO || len(r.Entries) != 2 {
		t.Fatalf("tar: %s %v %d entries", r.Type, r.Flags(), len(r.Entries))
	}
}

func TestTarSparseSkipped(t *testing.T) {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	h := &tar.Header{Name: "holes.bin", Typeflag: tar.TypeReg, Size: 4,
		PAXRecords: map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "holes.bin", "GNU.sparse.realsize": "1099511627776"}}
	if err := w.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("abcd"))
	w.Close()
	r := inspectBytes(t, "sparse.tar", buf.Bytes(), DefaultLimits())
	if r.Bomb {
		t.Errorf("sparse member: %v", r.Flags())
	}
}

func TestTarEntriesLimit(t *testing.T) {
	var files []zipFile
	for i := 0; i < 4; i++ {
		files = append(files, zipFile{name: string(rune('a'+i)) + ".txt", data: []byte("x")})
	}
	r := inspectBytes(t, "a.tar", tarBytes(t, files...), Limits{MaxEntries: 3})
	if !r.Bomb || len(r.Entries) != 3 {
		t.Fatalf("4 members, limit 3: %v, %d entries", r.Flags(), len(r.Entries))
	}
}
