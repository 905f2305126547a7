package wecomarchive

import (
	"context"

	"github.com/vigil-operator/vigil/internal/connector"
)

// PullAll runs one pull cycle synchronously, for the external tests.
func PullAll(c *Channel, ctx context.Context, sink connector.Sink) error { return c.pullAll(ctx, sink) }
