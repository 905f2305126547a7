package cli

import (
	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// newZapLogger is the logger of the connector and archive processes:
// structured JSON by default, console text when development is true.
func newZapLogger(development bool) logr.Logger {
	return zap.New(zap.UseDevMode(development))
}
