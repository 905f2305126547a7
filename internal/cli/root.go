// Package cli holds the vigil subcommands, one file each.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vigil-operator/vigil/internal/version"
)

// Main runs the vigil command line and returns the exit code.
func Main(args []string) int {
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "Compliance capture, supervision and retention for chat channels, as a Kubernetes operator",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.String(),
	}
	root.AddCommand(
		newManagerCommand(),
		newConnectorCommand(),
		newArchiveCommand(),
		newDevCommand(),
		newScanCommand(),
		newLogKeyCommand(),
		newVerifyCommand(),
		newExportCommand(),
	)
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		var status *exitStatus
		if errors.As(err, &status) {
			return status.code
		}
		fmt.Fprintln(os.Stderr, "vigil:", err)
		return 1
	}
	return 0
}

// exitStatus is returned by a command that has already said what happened
// and needs a particular exit status (vigil verify: 1 altered, 2 unverifiable).
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }
