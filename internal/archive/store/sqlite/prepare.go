package sqlite

import (
	"context"
	"slices"

	"github.com/vigil-operator/vigil/internal/archive/search"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/sealing"
	"github.com/vigil-operator/vigil/internal/capture"
)

// The writer goroutine is the bottleneck of ingest: every batch goes through
// it, one at a time, while the callers wait on it. So whatever a record's
// ingest needs of neither the writer's transaction nor its clock is worked
// out in the caller's goroutine before the batch is queued, as sealing
// already was: the search terms, the facets, and the log leaf but for its
// time (leafstamp.go). The writer is left with executing statements.

// preparedRecord is what the writer stores of one record besides its sealed
// bytes.
type preparedRecord struct {
	// terms are the record's search terms, as records_fts takes them.
	terms    string
	facets   store.Facets
	sentAt   int64
	system   bool
	findings int
	// leaf is the record's log leaf but for its time; it commits to the
	// sealed bytes, so it is made when the record is sealed.
	leaf leafTemplate
}

// newIngestJob makes a batch's job and prepares what of its records does
// not depend on sealing; seal does the rest.
func newIngestJob(account store.AccountKey, custodian, actor string, envs []capture.Envelope) *ingestJob {
	j := &ingestJob{account: account, custodian: custodian, actor: actor, envs: envs,
		sealed: make([]sealing.Record, len(envs)), prepared: make([]preparedRecord, len(envs))}
	for i, env := range envs {
		rec := env.Record
		j.prepared[i] = preparedRecord{
			terms:    search.IndexTerms(rec.Text),
			facets:   store.FacetsOf(rec, env.Findings),
			sentAt:   nanos(rec.SentAt),
			system:   rec.Kind == capture.KindSystem,
			findings: len(env.Findings),
		}
	}
	return j
}

// seal seals every record of the job, again after a lost race with a purge.
func (s *Store) seal(ctx context.Context, j *ingestJob) error {
	j.keyIDs = j.keyIDs[:0]
	for i := range j.envs {
		r, err := s.sealer.SealEnvelope(ctx, j.account, j.envs[i])
		if err != nil {
			return err
		}
		j.setSealed(i, r)
	}
	return nil
}

// setSealed takes envs[i]'s sealed form and makes the leaf that commits to
// it.
func (j *ingestJob) setSealed(i int, r sealing.Record) {
	j.sealed[i] = r
	// A batch is sealed under a key or two (one per month it spans): a
	// scan beats a map.
	if !slices.Contains(j.keyIDs, r.KeyID) {
		j.keyIDs = append(j.keyIDs, r.KeyID)
	}
	rec := j.envs[i].Record
	// The time is the writer's to stamp (leafTemplate.appendStamped).
	leaf := store.RecordLeaf(fromNanos(0), j.account, rec.ID, rec.DedupKey, r.Body, r.Findings).
		Sealed(rec.SentAt, r.KeyID, r.SealedBody, r.SealedFindings).FiledUnder(j.custodian)
	j.prepared[i].leaf = newLeafTemplate(leaf)
}
