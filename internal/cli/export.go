package cli

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-operator/vigil/internal/archive/api"
	"github.com/vigil-operator/vigil/internal/archive/client"
	"github.com/vigil-operator/vigil/internal/archive/export"
)

type exportFlags struct {
	url, tokenFile, out string
	req                 api.ExportRequest
	from, to            string
	formats             []string
}

func newExportCommand() *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export --url URL --token-file FILE --account NS/NAME --out FILE.zip",
		Short: "Produce an eDiscovery export (RSMF, EML, Concordance DAT) with a manifest of hashes and proofs",
		Long: `export asks a running archive for an eDiscovery export of one account's
records (all of them, or those a search query and time range select) and
writes it as one zip: natives, the renditions asked for, and manifest.json
listing every file's SHA-256 and every record's log leaf and inclusion
proof against a signed checkpoint. The archive records the export in its
audit trail, with the manifest's hash. Check the zip with
vigil verify --export FILE.zip --verifier-key KEY.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runExport(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "the archive's base URL")
	fl.StringVar(&f.tokenFile, "token-file", "", "file holding a bearer token allowed to create exports (RBAC create exports.review.vigil.dev)")
	fl.StringVar(&f.req.Account, "account", "", "the account, namespace/name")
	fl.StringVar(&f.req.Query, "query", "", "a search (docs/search.md) selecting the records; all when empty")
	fl.StringVar(&f.from, "from", "", "only records sent at or after this RFC 3339 time")
	fl.StringVar(&f.to, "to", "", "only records sent at or before this RFC 3339 time")
	fl.StringVar(&f.req.Custodian, "custodian", "", "only records of this custodian")
	fl.StringVar(&f.req.Conversation, "conversation", "", "only records of this conversation id")
	fl.StringVar(&f.req.Category, "category", "", "only records with a finding of this category")
	fl.StringVar(&f.req.Severity, "severity", "", "only records with a finding at least this severe (Low, Medium, High, Critical)")
	fl.StringSliceVar(&f.formats, "format", nil, "rsmf, eml or dat (repeatable); all three when not given")
	fl.StringVar(&f.req.Matter, "matter", "", "the legal matter the export is for")
	fl.StringVar(&f.req.ExportID, "export-id", "", "the production's id; generated when empty")
	fl.StringVar(&f.req.BatesPrefix, "bates-prefix", "", "prefix of the control numbers (default VIGIL)")
	fl.StringVar(&f.out, "out", "", "the zip file to create (it must not exist)")
	for _, name := range []string{"url", "token-file", "account", "out"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func runExport(cmd *cobra.Command, f exportFlags) error {
	for _, tf := range []struct {
		flag string
		v    string
		dst  **time.Time
	}{{"--from", f.from, &f.req.From}, {"--to", f.to, &f.req.To}} {
		if tf.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, tf.v)
		if err != nil {
			return fmt.Errorf("%s must be an RFC 3339 time: %w", tf.flag, err)
		}
		*tf.dst = &t
	}
	for _, s := range f.formats {
		f.req.Formats = append(f.req.Formats, export.Format(s))
	}
	c, err := client.New(f.url, f.tokenFile, client.WithHTTPClient(newLongHTTPClient()))
	if err != nil {
		return err
	}
	// Written beside the destination and renamed only when the archive
	// reports the export complete: a cut-short zip never takes its name.
	tmp, err := os.CreateTemp(filepath.Dir(f.out), ".vigil-export-*")
	if err != nil {
		return fmt.Errorf("while creating the output: %w", err)
	}
	defer os.Remove(tmp.Name())
	sha, err := c.Export(cmd.Context(), f.req, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(f.out); err == nil {
		return fmt.Errorf("%s exists: not overwriting it", f.out)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp.Name(), f.out); err != nil {
		return fmt.Errorf("while saving the export: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "export written to %s\nmanifest sha256 %s (logged by the archive)\n", f.out, sha)
	return nil
}

// newLongHTTPClient has no overall timeout: a large export streams for as
// long as it takes; the context (Ctrl-C) stops it.
func newLongHTTPClient() *http.Client { return &http.Client{} }
