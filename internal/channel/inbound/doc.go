// Package inbound holds what every push channel's HTTP handler needs and must
// get right the same way: bounded body reads, refusals that are counted by
// reason and never echo secrets, a replay and dedupe cache with a hard memory
// bound, timestamp freshness, and the mapping of a spool error to the answer
// that makes the provider retry.
package inbound
