package controller

import (
	"context"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// Archive is what the controllers ask of the archive server. The HTTP client in
// internal/archive/client implements it; the controller tests run it against a
// real archive server on SQLite.
type Archive interface {
	Stats(ctx context.Context, account store.AccountKey) (store.AccountStats, error)
	Purge(ctx context.Context, req store.PurgeRequest) (store.PurgeReport, error)
	PutHold(ctx context.Context, hold store.Hold) (store.HoldStatus, error)
	ReleaseHold(ctx context.Context, id, reason, actor string) (store.HoldStatus, error)
}

// accountKey is the archive's name for a MonitoredAccount.
func accountKey(namespace, name string) store.AccountKey {
	return store.AccountKey(namespace + "/" + name)
}

// accountName is the name part of an archive account key.
func accountName(k store.AccountKey) string {
	s := string(k)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return s[i+1:]
		}
	}
	return s
}
