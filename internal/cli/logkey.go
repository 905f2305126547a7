package cli

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// newLogKeyCommand generates the archive's checkpoint signing key: the
// private key goes to a file for a Secret, the public key to stdout for
// auditors to pin.
func newLogKeyCommand() *cobra.Command {
	var origin, out string
	cmd := &cobra.Command{
		Use:   "log-key",
		Short: "Generate the archive log's checkpoint signing key (Ed25519 note key)",
		Long: `log-key writes a new checkpoint signing key to --out (mode 0600), for a Secret
the archive mounts with --log-signing-key-file, and prints its public verifier
key, which auditors pin to check checkpoints:

  vigil log-key --origin archive.example.com/prod --out signing.key
  kubectl -n vigil-system create secret generic vigil-archive-log-key --from-file=signing.key`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signer, err := tlog.GenerateSigner(origin, rand.Reader)
			if err != nil {
				return err
			}
			f, err := os.OpenFile(filepath.Clean(out), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("while creating %s (it must not exist yet): %w", out, err)
			}
			if _, err := fmt.Fprintln(f, signer.PrivateKeyString()); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), signer.Verifier().String())
			return err
		},
	}
	cmd.Flags().StringVar(&origin, "origin", sqlite.DefaultLogOrigin, "the log's origin; the archive's --log-origin must match")
	cmd.Flags().StringVar(&out, "out", "", "file to create for the private key")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
