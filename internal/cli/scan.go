package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/policy"
)

// maxScanLineBytes bounds one input record of `vigil scan`.
const maxScanLineBytes = 16 << 20

func newScanCommand() *cobra.Command {
	var policyPaths []string
	var attachmentsDir string
	cmd := &cobra.Command{
		Use:   "scan --policy P.yaml [records.ndjson|-]",
		Short: "Evaluate CompliancePolicies on capture.v1 records offline",
		Long: `scan reads CompliancePolicy YAML (and the ConfigMaps its termsFrom names, in the
same or other files; folders are read like kubectl apply -f) and capture.v1
records as NDJSON, one a line, and writes one JSON object a record:
{"id":..., "findings":[...]} with byte offsets into the record's text and masked
evidence. It runs the same engine as the connectors. A line that is not a record
is reported as {"line":N,"error":...}, and the exit code is then 1.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bundle, err := policy.LoadFiles(policyPaths)
			if err != nil {
				return err
			}
			opts := policy.Options{}
			if attachmentsDir != "" {
				opts.Attachments = dirAttachments(attachmentsDir)
			}
			engine, ruleErrs := policy.Compile(bundle, opts)
			for _, e := range ruleErrs {
				fmt.Fprintln(cmd.ErrOrStderr(), "vigil scan:", e.Error())
			}
			if len(ruleErrs) > 0 {
				return fmt.Errorf("%d rules did not compile", len(ruleErrs))
			}
			in := cmd.InOrStdin()
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("while opening records: %w", err)
				}
				defer f.Close()
				in = f
			}
			bad, err := scanRecords(cmd.Context(), engine, in, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if bad > 0 {
				return fmt.Errorf("%d input lines were not records", bad)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&policyPaths, "policy", nil, "CompliancePolicy YAML file or folder (repeatable)")
	cmd.Flags().StringVar(&attachmentsDir, "attachments", "", "folder of attachment contents named by their SHA-256, for content inspection")
	_ = cmd.MarkFlagRequired("policy")
	return cmd
}

type scanResult struct {
	ID       string            `json:"id"`
	Findings []capture.Finding `json:"findings"`
}

type scanError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// scanRecords evaluates each NDJSON line and writes one result a line; it
// returns how many lines were not records.
func scanRecords(ctx context.Context, engine *policy.Engine, in io.Reader, out io.Writer) (int, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), maxScanLineBytes)
	w := bufio.NewWriter(out)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	bad := 0
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var rec capture.Record
		if err := json.Unmarshal(b, &rec); err != nil {
			bad++
			if err := enc.Encode(scanError{Line: line, Error: err.Error()}); err != nil {
				return bad, err
			}
			continue
		}
		findings := engine.Evaluate(ctx, &rec)
		if findings == nil {
			findings = []capture.Finding{}
		}
		if err := enc.Encode(scanResult{ID: rec.ID, Findings: findings}); err != nil {
			return bad, fmt.Errorf("while writing results: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return bad, fmt.Errorf("a record is longer than %d bytes", maxScanLineBytes)
		}
		return bad, fmt.Errorf("while reading records: %w", err)
	}
	return bad, nil
}

// dirAttachments opens attachment contents from a folder of files named by
// their SHA-256 in hex.
type dirAttachments string

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (d dirAttachments) Open(_ context.Context, sum string) (io.ReaderAt, int64, io.Closer, bool, error) {
	if !sha256Hex.MatchString(sum) {
		return nil, 0, nil, false, nil
	}
	f, err := os.Open(filepath.Join(string(d), sum))
	if os.IsNotExist(err) {
		return nil, 0, nil, false, nil
	}
	if err != nil {
		return nil, 0, nil, false, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, false, err
	}
	return f, st.Size(), f, true, nil
}
