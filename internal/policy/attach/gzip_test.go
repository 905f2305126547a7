package attach

import (
	"bytes"
	"testing"
)

func TestGzipText(t *testing.T) {
	g := gzipBytes(t, "", []byte("plain text log line\n"))
	r := inspectBytes(t, "server.log.gz", g, DefaultLimits())
	if r.Type != TypeGzip || len(r.Flags()) != 0 || len(r.Entries) != 1 {
		t.Fatalf("gzip of text: %s %v %+v", r.Type, r.Flags(), r.Entries)
	}
	if e := r.Entries[0]; e.Name != "server.log" || e.Type != TypeText {
		t.Errorf("payload: %+v", e)
	}
}

func TestGzipHeaderName(t *testing.T) {
	g := gzipBytes(t, "invoice.pdf.exe", minimalPE())
	r := inspectBytes(t, "invoice.gz", g, DefaultLimits())
	if !r.Executable || !r.DoubleExtension || r.Entries[0].Name != "invoice.pdf.exe" {
		t.Fatalf("FNAME names the payload: %v %+v", r.Flags(), r.Entries)
	}
}

func TestTarGz(t *testing.T) {
	tgz := gzipBytes(t, "", tarBytes(t,
		zipFile{name: "docs/readme.txt", data: []byte("read me")},
		zipFile{name: "bin/tool", data: minimalELF()},
	))
	r := inspectBytes(t, "release.tar.gz", tgz, DefaultLimits())
	if r.Type != TypeGzip || !r.Executable {
		t.Fatalf("tar.gz: %s %v", r.Type, r.Flags())
	}
	tr := r.Entries[0]
	if tr.Type != TypeTar || tr.Name != "release.tar" || len(tr.Entries) != 2 || tr.Entries[1].Type != TypeELF {
		t.Fatalf("tar payload: %+v", tr)
	}
	// tar.gz is one level: a zip inside it inside two zips still opens
	// three levels down.
	z := buildZip(t, zipFile{name: "inner.zip", data: buildZip(t, zipFile{name: "r.tgz", data: tgz})})
	if r := inspectBytes(t, "outer.zip", z, DefaultLimits()); r.Bomb || !r.Executable {
		t.Fatalf("zip > zip > tar.gz > elf: %v", r.Flags())
	}
}

func TestGzipBomb(t *testing.T) {
	g := gzipBytes(t, "", zeros(8<<20))
	r, spent, err := inspect(Meta{Name: "zeros.gz"}, bytes.NewReader(g), int64(len(g)), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Bomb || !r.Partial {
		t.Fatalf("8 MiB of zeros at ~1000:1: %v", r.Flags())
	}
	if max := max(ratioGrace, int64(len(g))*100); spent.total > max {
		t.Errorf("inflated %d bytes, ratio limit allows %d", spent.total, max)
	}
}

func TestGzipRecursion(t *testing.T) {
	b := []byte("x")
	for i := 0; i < 5; i++ {
		b = gzipBytes(t, "", b)
	}
	r := inspectBytes(t, "x.gz", b, DefaultLimits())
	if !r.Bomb || !r.Partial {
		t.Fatalf("five nested gzip streams: %v", r.Flags())
	}
}

func TestGzipCorrupt(t *testing.T) {
	g := gzipBytes(t, "", []byte("some text that will be checksummed"))
	g[len(g)-8] ^= 0xFF // CRC32 trailer
	if r := inspectBytes(t, "x.gz", g, DefaultLimits()); !r.Malformed {
		t.Errorf("bad CRC: %v", r.Flags())
	}
	if r := inspectBytes(t, "x.gz", g[:12], DefaultLimits()); !r.Malformed {
		t.Errorf("truncated: %v", r.Flags())
	}
}

func TestGunzippedName(t *testing.T) {
	for in, want := range map[string]string{
		"a.tar.gz":    "a.tar",
		"a.TGZ":       "a.tar",
		"dir/x.gz":    "x",
		"img.svgz":    "img.svg",
		"raw":         "",
		"report.gzip": "report",
	} {
		if got := gunzippedName(in); got != want {
			t.Errorf("gunzippedName(%q) = %q, want %q", in, got, want)
		}
	}
}
