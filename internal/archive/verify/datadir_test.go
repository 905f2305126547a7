package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

func TestDataDirCleanArchiveVerifiesAndIsNotWritten(t *testing.T) {
	a := buildArchive(t)
	before, err := os.ReadFile(filepath.Join(a.dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	r, err := DataDir(context.Background(), DataDirOptions{Dir: a.dir, Verifier: verifierOf(t, a.dir),
		PreviousCheckpoint: a.earlyNote, PreviousSource: "early"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Fatalf("a clean archive has problems: %v", r.Problems)
	}
	c := r.Counts
	if c.Records != 3 || c.RecordLeaves != 5 || c.PurgedRecords != 2 || c.Checkpoints != 3 || c.PurgeCertificates != 2 ||
		c.DataKeys != 4 || c.DestroyedKeys != 1 ||
		c.AuditEvents != c.AuditLeaves || c.Leaves != c.RecordLeaves+c.AuditLeaves || r.Checkpoint == nil || r.Checkpoint.Size != c.Leaves {
		t.Fatalf("counts %+v, checkpoint %+v", c, r.Checkpoint)
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "OK") || !strings.Contains(text.String(), "not opened") {
		t.Fatalf("report:\n%s", text.String())
	}
	after, err := os.ReadFile(filepath.Join(a.dir, sqlite.FileName))
	if err != nil || sha256.Sum256(before) != sha256.Sum256(after) {
		t.Fatal("verify changed archive.db")
	}
	if _, err := os.Stat(filepath.Join(a.dir, sqlite.FileName+"-journal")); err == nil {
		t.Fatal("verify left a journal: it wrote")
	}
}

// TestDataDirWithTheKEK opens every sealed record with the archive's
// key-encryption key: their plaintext against the log, their search terms
// against the index.
func TestDataDirWithTheKEK(t *testing.T) {
	a := buildArchive(t)
	ring := ringOf(t, a.dir)
	r, err := DataDir(context.Background(), DataDirOptions{Dir: a.dir, Verifier: verifierOf(t, a.dir), KeyRing: ring})
	if err != nil || !r.OK() || r.Counts.RecordsOpened != 3 {
		t.Fatalf("a clean archive with its key: %+v, %v", r, err)
	}
	var bobSeq, heldSeq int64
	tamper(t, a.dir, func(db *sql.DB) error {
		if err := db.QueryRow(`SELECT seq FROM records WHERE id = ?`, a.bobID).Scan(&bobSeq); err != nil {
			return err
		}
		return db.QueryRow(`SELECT seq FROM records WHERE id = ?`, a.heldID).Scan(&heldSeq)
	})
	for _, tc := range []struct {
		name    string
		change  func(db *sql.DB) error
		want    []Kind
		allowed []Kind
		mention string
	}{
		{name: "a record's index terms replaced", change: func(db *sql.DB) error {
			if _, err := db.Exec(`DELETE FROM records_fts WHERE rowid = ?`, bobSeq); err != nil {
				return err
			}
			_, err := db.Exec(`INSERT INTO records_fts (rowid, terms) VALUES (?, 'wsomething welse')`, bobSeq)
			return err
		}, want: []Kind{KindIndex}, mention: "other terms"},
		{name: "a record dropped from the index", change: exec(`DELETE FROM records_fts WHERE rowid = ?`, bobSeq),
			want: []Kind{KindIndex}, mention: "not in the search index"},
		{name: "a ciphertext moved to another record", change: exec(`UPDATE records SET record = (SELECT record FROM records WHERE seq = ?) WHERE id = ?`, heldSeq, a.bobID),
			want: []Kind{KindRecord}, mention: "cannot be decrypted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyArchive(t, a.dir)
			tamper(t, dir, tc.change)
			r, err := DataDir(context.Background(), DataDirOptions{Dir: dir, Verifier: verifierOf(t, dir), KeyRing: ring})
			if err != nil {
				t.Fatal(err)
			}
			expectKinds(t, r, tc.want, tc.allowed...)
			if !slices.ContainsFunc(r.Problems, func(p Problem) bool { return strings.Contains(p.What, tc.mention) }) {
				t.Fatalf("no problem mentions %q: %v", tc.mention, r.Problems)
			}
		})
	}
}

func TestDataDirWithoutPinnedKeyWarns(t *testing.T) {
	a := buildArchive(t)
	r, err := DataDir(context.Background(), DataDirOptions{Dir: a.dir})
	if err != nil || !r.OK() || !strings.Contains(strings.Join(r.Notes, "\n"), "out of band") {
		t.Fatalf("report %+v, %v", r, err)
	}
}

func TestDataDirCatchesTampering(t *testing.T) {
	a := buildArchive(t)
	var newestSize int64
	tamper(t, a.dir, func(db *sql.DB) error { return db.QueryRow(`SELECT max(size) FROM log_checkpoints`).Scan(&newestSize) })
	var bobLeaf int64
	tamper(t, a.dir, func(db *sql.DB) error {
		return db.QueryRow(`SELECT idx FROM log_leaves WHERE record_id = ?`, a.bobID).Scan(&bobLeaf)
	})
	forkedPrevious, err := tlog.SignCheckpoint(tlog.Checkpoint{Origin: sqlite.DefaultLogOrigin, Size: 3, Root: tlog.LeafHash([]byte("another history"))}, signerOf(t, a.dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		change  func(db *sql.DB) error
		prev    []byte
		want    []Kind
		allowed []Kind
		// mention must appear in a problem's where or what.
		mention string
	}{
		{name: "one byte of a record", change: flipByte("records", "record", "id = ?", a.heldID), want: []Kind{KindRecord}, mention: a.heldID},
		{name: "one byte of findings", change: flipByte("records", "findings", "id = ?", a.bobID), want: []Kind{KindRecord}, mention: "findings were altered"},
		{name: "the text column a hold matches on", change: exec(`UPDATE records SET text = 'nothing to see' WHERE id = ?`, a.heldID), want: []Kind{KindRecord}, mention: a.heldID},
		{name: "one byte of a leaf body", change: flipByte("log_leaves", "body", "idx = ?", bobLeaf),
			want: []Kind{KindLeafHash, KindCheckpointRoot}, allowed: []Kind{KindLeafFormat, KindRecord, KindRecordMissing}, mention: "history was rewritten"},
		{name: "one byte of a leaf hash", change: flipByte("log_leaves", "hash", "idx = ?", bobLeaf), want: []Kind{KindLeafHash}, mention: "log_leaves idx"},
		{name: "one byte of the newest checkpoint", change: flipByte("log_checkpoints", "note", "size = ?", newestSize), want: []Kind{KindCheckpointSignature}},
		{name: "all checkpoints deleted", change: exec(`DELETE FROM log_checkpoints`), want: []Kind{KindCheckpointMissing}},
		{name: "a record deleted without a purge", change: exec(`DELETE FROM records WHERE id = ?`, a.bobID), want: []Kind{KindRecordMissing, KindIndex, KindDataKey},
			mention: "record " + a.bobID + " is missing and no purge explains it"},
		{name: "a held record deleted: the purge came before but held it", change: exec(`DELETE FROM records WHERE id = ?`, a.heldID),
			want: []Kind{KindRecordMissing, KindIndex, KindDataKey}, mention: "record " + a.heldID + " is missing and no purge explains it"},
		{name: "a sealed record's sent_at edited", change: exec(`UPDATE records SET sent_at = sent_at - 1 WHERE id = ?`, a.bobID),
			want: []Kind{KindRecord}, mention: "purges select on it"},
		{name: "a record moved to another custodian", change: exec(`UPDATE records SET custodian = 'Nobody' WHERE id = ?`, a.bobID),
			want: []Kind{KindRecord}, mention: "custodian column"},
		{name: "text in the clear beside a sealed record", change: exec(`UPDATE records SET text = 'x' WHERE id = ?`, a.bobID),
			want: []Kind{KindRecord}, mention: "in the clear"},
		{name: "a record moved to another key", change: exec(`UPDATE records SET key_id = (SELECT id FROM data_keys WHERE account = 'desk/carol') WHERE id = ?`, a.bobID),
			want: []Kind{KindRecord, KindDataKey}, mention: "key_id"},
		{name: "a purged record's words left in the index", change: exec(`INSERT INTO records_fts (rowid, terms) VALUES (999, 'wsecret')`),
			want: []Kind{KindIndex}, mention: "not stored"},
		{name: "a hold's release undone", change: exec(`UPDATE holds SET released_at = NULL`), want: []Kind{KindHold}, mention: "table shows it active"},
		{name: "a hold's account removed", change: exec(`DELETE FROM hold_accounts`), want: []Kind{KindHold}, mention: "holds accounts"},
		{name: "a hold's compiled query narrowed", change: exec(`UPDATE holds SET match = '"wnothing"'`), want: []Kind{KindHold}, mention: "compiled index query"},
		{name: "a hold inserted outside the archive", change: exec(`INSERT INTO holds (id, query, reason, actor, created_at, updated_at) VALUES ('x/y', '', 'r', 'a', 0, 0)`),
			want: []Kind{KindHold}, mention: "never placed"},
		{name: "a key's record count lowered", change: exec(`UPDATE data_keys SET records = records - 1 WHERE account = 'desk/bob'`),
			want: []Kind{KindDataKey}, mention: "count too low"},
		{name: "a key's record count raised", change: exec(`UPDATE data_keys SET records = records + 1 WHERE account = 'desk/bob'`),
			want: []Kind{KindDataKey}, mention: "removed outside"},
		{name: "a destroyed key brought back", change: exec(`UPDATE data_keys SET destroyed_at = NULL, wrapped = x'00' WHERE account = 'desk/carol'`),
			want: []Kind{KindDataKey}, mention: "live or not at all"},
		{name: "a live key destroyed outside a purge", change: exec(`UPDATE data_keys SET destroyed_at = 1, wrapped = NULL WHERE account = 'desk/bob'`),
			want: []Kind{KindDataKey}, mention: "can never be read"},
		{name: "an audit event deleted", change: exec(`DELETE FROM audit_events WHERE action = 'records.read'`), want: []Kind{KindAudit}, mention: "deleted"},
		{name: "an audit event's detail edited", change: exec(`UPDATE audit_events SET detail = 'q=lunch' WHERE action = 'records.read'`),
			want: []Kind{KindAudit}, mention: "detail"},
		{name: "an audit event inserted", change: exec(`INSERT INTO audit_events (at, actor, action, subject, detail) VALUES (1, 'x', 'records.read', 'desk/bob', '')`),
			want: []Kind{KindAudit}, mention: "inserted"},
		{name: "a leaf deleted", change: exec(`DELETE FROM log_leaves WHERE idx = ?`, bobLeaf),
			want: []Kind{KindLeafSequence, KindCheckpointRoot}, allowed: []Kind{KindRecord}, mention: "missing"},
		{name: "a purge certificate's body changed", change: exec(`UPDATE purge_certificates SET body = CAST(replace(CAST(body AS TEXT), '"purged":1', '"purged":2') AS BLOB)`),
			want: []Kind{KindPurgeCertificate}, allowed: []Kind{KindDataKey}, mention: "altered"},
		{name: "a purge certificate forged with a matching sha256",
			change: func(db *sql.DB) error {
				var id string
				var body []byte
				if err := db.QueryRow(`SELECT id, body FROM purge_certificates`).Scan(&id, &body); err != nil {
					return err
				}
				body = bytes.Replace(body, []byte(`"purged":1`), []byte(`"purged":2`), 1)
				sum := sha256.Sum256(body)
				_, err := db.Exec(`UPDATE purge_certificates SET body = ?, sha256 = ? WHERE id = ?`, body, hex.EncodeToString(sum[:]), id)
				return err
			},
			want: []Kind{KindPurgeCertificate}},
		{name: "a purge certificate deleted", change: exec(`DELETE FROM purge_certificates`), want: []Kind{KindPurgeCertificate}, allowed: []Kind{KindDataKey}, mention: "no stored certificate"},
		{name: "a previous checkpoint of another history", change: func(*sql.DB) error { return nil }, prev: forkedPrevious,
			want: []Kind{KindPreviousCheckpoint}, mention: "history was rewritten"},
		{name: "a previous checkpoint not signed by the key", change: func(*sql.DB) error { return nil }, prev: []byte("vigil.dev/archive\n1\nAAAA\n"),
			want: []Kind{KindPreviousCheckpoint}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyArchive(t, a.dir)
			tamper(t, dir, tc.change)
			r, err := DataDir(context.Background(), DataDirOptions{Dir: dir, Verifier: verifierOf(t, a.dir), PreviousCheckpoint: tc.prev, PreviousSource: "kept"})
			if err != nil {
				t.Fatal(err)
			}
			expectKinds(t, r, tc.want, tc.allowed...)
			if tc.mention != "" && !strings.Contains(problemsText(r), tc.mention) {
				t.Errorf("no problem mentions %q: %v", tc.mention, r.Problems)
			}
		})
	}
}

func problemsText(r *Report) string {
	var b strings.Builder
	for _, p := range r.Problems {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func TestDataDirRefusesWhatItCannotVouchFor(t *testing.T) {
	a := buildArchive(t)
	newer := copyArchive(t, a.dir)
	tamper(t, newer, func(db *sql.DB) error { _, err := db.Exec(`PRAGMA user_version = 99`); return err })
	for name, dir := range map[string]string{"a newer schema": newer, "no archive": t.TempDir()} {
		if _, err := DataDir(context.Background(), DataDirOptions{Dir: dir, Verifier: verifierOf(t, a.dir)}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	other, err := tlog.GenerateSigner(sqlite.DefaultLogOrigin, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, err := DataDir(context.Background(), DataDirOptions{Dir: a.dir, Verifier: other.Verifier()})
	if err != nil {
		t.Fatal(err)
	}
	expectKinds(t, r, []Kind{KindCheckpointSignature})
}
