// Package connector is one monitored account's capture data plane: a channel
// turns provider traffic into capture.v1 records, the sink puts them in the
// fsynced spool, and the shipper moves them from the spool to the archive.
package connector

import (
	"context"
	"net/http"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/capture"
)

// Sink receives captured records from a channel.
type Sink interface {
	// Capture stamps id, capturedAt, schemaVersion and dedupKey where missing,
	// validates every record, and appends them to the spool as one batch. It
	// returns only after the batch is fsynced, so a channel may acknowledge its
	// provider as soon as Capture returns nil. The batch is taken whole or not
	// at all: errors wrapping capture.ErrInvalid mean the input is bad, errors
	// wrapping spool.ErrSpoolFull mean "try again later". Capture fills the
	// stamped fields into the records it is given.
	Capture(ctx context.Context, recs []*capture.Record) error
}

// Channel produces records for one account.
type Channel interface {
	// Name is the value channels put in capture.Record.Channel.
	Name() string
	// Run captures until ctx is cancelled. Push channels whose input arrives
	// over HTTP (see WebhookChannel) may simply wait for ctx.
	Run(ctx context.Context, sink Sink) error
}

// WebhookChannel is a channel that also receives provider pushes over HTTP.
// The connector mounts the handler on its own server at WebhookPath.
type WebhookChannel interface {
	Channel
	WebhookPath() string
	WebhookHandler(sink Sink) http.Handler
}

// ChannelParams is what a channel is built from: the account's identity, the
// contents of its Secret and its channel settings.
type ChannelParams struct {
	// Account is "namespace/name" of the MonitoredAccount.
	Account string
	// Custodian is the person whose mailbox the account captures.
	Custodian string
	// ExternalID is the channel's id of the account (corp id, app id, phone
	// number id, team id, bot id); signed traffic for anyone else is refused.
	ExternalID  string
	Credentials map[string][]byte
	Settings    map[string]string
	Logger      logr.Logger
	// Registerer is where channels register their own metrics.
	Registerer prometheus.Registerer
	// StateDir is a directory on the spool's persistent volume where a
	// pulling channel keeps its cursor; it survives restarts.
	StateDir string
}

// ChannelStateDir is the spool volume's sub-directory for channel state.
// The spool itself only reads regular files named as segments, so the two
// share the volume safely.
const ChannelStateDir = "channel-state"

// ChannelFactory builds a channel; each channel package exports one.
type ChannelFactory func(ChannelParams) (Channel, error)
