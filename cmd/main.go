// Command vigil is the single binary of Vigil: the operator, a connector, the
// archive and the local development cluster, as subcommands.
package main

import (
	"os"

	// Embedded time zone data: retention schedules name IANA zones, and the
	// image has no /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/vigil-operator/vigil/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
