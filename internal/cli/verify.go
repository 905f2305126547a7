package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-operator/vigil/internal/archive/export"
	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/archive/verify"
)

// Exit statuses of vigil verify, documented in docs/archive.md.
const (
	verifyExitOK       = 0
	verifyExitProblems = 1
	verifyExitError    = 2
)

type verifyFlags struct {
	dataDir, url, tokenFile, exportPath string
	verifierKey, verifierKeyString      string
	previousCheckpoint, saveCheckpoint  string
	kekFile, kekID, segmentsDir         string
	previousKEKs                        []string
	json                                bool
}

func newVerifyCommand() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify (--data-dir DIR | --url URL --token-file FILE --verifier-key FILE | --export DIR|ZIP --verifier-key FILE)",
		Short: "Prove offline that an archive has not been altered",
		Long: `verify checks an archive's tamper-evident log and everything it commits to.

With --data-dir it opens archive.db read-only and checks the leaves, every
signed checkpoint, the records, the audit trail, the purge certificates, the
data keys, the holds and the search index. Given the key-encryption key
(--kek-file), it also opens every sealed record and checks its plaintext
and its search terms.
With --url it checks a running archive's log through its API.
With --export it checks an eDiscovery export (a folder or a zip): every file
against the manifest, every record against its leaf and inclusion proof, and
the checkpoint against the pinned key.

Pin the verifier key you were given out of band (--verifier-key): a key read
from the archive itself only shows that the archive agrees with itself.

Exit status: 0 no problem, 1 problems found, 2 could not verify.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// An auditor's script must tell "the archive was altered" (1)
			// from "could not check" (2).
			if code := runVerify(cmd.Context(), f, cmd.OutOrStdout(), cmd.ErrOrStderr()); code != verifyExitOK {
				return &exitStatus{code: code}
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		fmt.Fprintln(cmd.ErrOrStderr(), "vigil verify:", err)
		return &exitStatus{code: verifyExitError}
	})
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", "", "the archive's data folder (holding archive.db)")
	fl.StringVar(&f.url, "url", "", "a running archive's base URL")
	fl.StringVar(&f.exportPath, "export", "", "an export to check: its folder, or its zip")
	fl.StringVar(&f.tokenFile, "token-file", "", "file holding a bearer token allowed to read the log (with --url)")
	fl.StringVar(&f.verifierKey, "verifier-key", "", "file holding the pinned checkpoint verifier key")
	fl.StringVar(&f.verifierKeyString, "verifier-key-string", "", "the pinned checkpoint verifier key itself")
	fl.StringVar(&f.previousCheckpoint, "previous-checkpoint", "", "a signed checkpoint kept from an earlier run: the log must extend it")
	fl.StringVar(&f.saveCheckpoint, "save-checkpoint", "", "write the verified checkpoint here, for the next run's --previous-checkpoint")
	fl.StringVar(&f.kekFile, "kek-file", "", "with --data-dir: the archive's key-encryption key, to open and check the sealed records")
	fl.StringVar(&f.kekID, "kek-id", sqlite.GeneratedKEKID, "the id of the key in --kek-file (the archive's --kek-id)")
	fl.StringSliceVar(&f.previousKEKs, "previous-kek", nil, "id=file of an earlier key-encryption key (repeatable)")
	fl.StringVar(&f.segmentsDir, "segments-dir", "", "with --data-dir: the filesystem segment store (the archive's --segments-dir), to read the WORM copy back")
	fl.BoolVar(&f.json, "json", false, "write the report as JSON")
	return cmd
}

// verifyReport is what each mode reports.
type verifyReport interface {
	OK() bool
	WriteText(io.Writer) error
}

// runVerify runs one verification and returns the exit status.
func runVerify(ctx context.Context, f verifyFlags, stdout, stderr io.Writer) int {
	var report verifyReport
	var archiveReport *verify.Report
	var err error
	if f.exportPath != "" {
		report, err = verifyExport(ctx, f)
	} else if archiveReport, err = verifyArchive(ctx, f); err == nil {
		report = archiveReport
	}
	if err != nil {
		fmt.Fprintln(stderr, "vigil verify:", err)
		return verifyExitError
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report)
	} else {
		err = report.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "vigil verify: while writing the report:", err)
		return verifyExitError
	}
	if !report.OK() {
		return verifyExitProblems
	}
	if f.saveCheckpoint != "" && archiveReport != nil && archiveReport.NewestNote != nil {
		// Only a checkpoint that verified and matched the leaves is kept.
		if err := os.WriteFile(f.saveCheckpoint, archiveReport.NewestNote, 0o644); err != nil {
			fmt.Fprintln(stderr, "vigil verify: while saving the checkpoint:", err)
			return verifyExitError
		}
	}
	return verifyExitOK
}

// verifyExport checks an export folder or zip against the pinned key.
func verifyExport(ctx context.Context, f verifyFlags) (*export.Report, error) {
	if f.dataDir != "" || f.url != "" {
		return nil, errors.New("give exactly one of --data-dir, --url and --export")
	}
	verifier, err := pinnedVerifier(f)
	if err != nil {
		return nil, err
	}
	if verifier == nil {
		return nil, errors.New("--export needs the pinned --verifier-key or --verifier-key-string: an export's own checkpoint proves nothing without it")
	}
	// The checkpoint's origin is the key's name (vigil log-key names keys
	// after the log's origin).
	origin, verifiers := verifier.Name(), []*tlog.Verifier{verifier}
	info, err := os.Stat(f.exportPath)
	if err != nil {
		return nil, fmt.Errorf("while opening the export: %w", err)
	}
	if info.IsDir() {
		return export.VerifyDir(ctx, f.exportPath, origin, verifiers)
	}
	file, err := os.Open(f.exportPath)
	if err != nil {
		return nil, fmt.Errorf("while opening the export: %w", err)
	}
	defer file.Close()
	r, err := export.VerifyZip(ctx, file, info.Size(), origin, verifiers)
	if r != nil {
		r.Source = f.exportPath
	}
	return r, err
}

func verifyArchive(ctx context.Context, f verifyFlags) (*verify.Report, error) {
	if (f.dataDir == "") == (f.url == "") {
		return nil, errors.New("give exactly one of --data-dir and --url")
	}
	verifier, err := pinnedVerifier(f)
	if err != nil {
		return nil, err
	}
	var previous []byte
	if f.previousCheckpoint != "" {
		if previous, err = os.ReadFile(f.previousCheckpoint); err != nil {
			return nil, fmt.Errorf("while reading the previous checkpoint: %w", err)
		}
	}
	if f.dataDir != "" {
		ring, err := loadKeyRing(f.kekFile, f.kekID, f.previousKEKs)
		if err != nil {
			return nil, err
		}
		opts := verify.DataDirOptions{Dir: f.dataDir, Verifier: verifier,
			PreviousCheckpoint: previous, PreviousSource: f.previousCheckpoint, KeyRing: ring}
		if f.segmentsDir != "" {
			fs, err := segments.NewFS(f.segmentsDir)
			if err != nil {
				return nil, err
			}
			defer fs.Close()
			opts.Segments = fs
		}
		return verify.DataDir(ctx, opts)
	}
	if f.kekFile != "" {
		return nil, errors.New("--kek-file works with --data-dir: a served archive's records are checked by their hashes only")
	}
	if verifier == nil {
		return nil, errors.New("--url needs a pinned --verifier-key or --verifier-key-string")
	}
	if f.tokenFile == "" {
		return nil, errors.New("--url needs --token-file")
	}
	token, err := os.ReadFile(f.tokenFile)
	if err != nil {
		return nil, fmt.Errorf("while reading the token: %w", err)
	}
	return verify.Served(ctx, verify.ServedOptions{URL: f.url, Token: strings.TrimSpace(string(token)), Verifier: verifier,
		PreviousCheckpoint: previous, PreviousSource: f.previousCheckpoint})
}

// pinnedVerifier is the key from the flags, or nil when none was given.
func pinnedVerifier(f verifyFlags) (*tlog.Verifier, error) {
	switch {
	case f.verifierKey != "" && f.verifierKeyString != "":
		return nil, errors.New("give one of --verifier-key and --verifier-key-string")
	case f.verifierKey != "":
		return verify.ReadVerifierKey(f.verifierKey)
	case f.verifierKeyString != "":
		v, err := tlog.ParseVerifierKey(strings.TrimSpace(f.verifierKeyString))
		if err != nil {
			return nil, fmt.Errorf("while reading --verifier-key-string: %w", err)
		}
		return v, nil
	}
	return nil, nil
}
