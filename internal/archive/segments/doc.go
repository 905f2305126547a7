// Package segments stores the archive's sealed record blobs in content
// segments: append-only containers of many records, written as one object
// each, never one object per message.
//
// Why segments: object stores charge and throttle per request, and Object
// Lock retention is set per object version. One object per message costs a
// PUT, a retention record and a list entry per message (the test server
// manages a few hundred such PUTs a second); a segment amortises them over
// thousands of records. All records of a segment share an account, an
// expiry bucket (the UTC month in which their retention ends) and a data
// key, so the segment's COMPLIANCE retain-until can equal the bucket's end:
// WORM never blocks a lawful purge of the bucket and never allows an early
// one, and crypto-shredding the bucket's key covers exactly its segments.
//
// The pieces:
//
//   - The format (format.go, parse.go): a header, length-prefixed blobs, an
//     index with each blob's offset, length and SHA-256, and a trailer with a
//     SHA-256 of the whole segment. docs/archive-segments.md has it byte by
//     byte.
//   - Writer (writer.go) groups blobs by account, expiry bucket and key id
//     and seals a segment at a target size or age.
//   - Backend (backend.go) stores sealed segments: FS (fs.go) on a local
//     filesystem with retention enforced in code (audit-trail mode), S3
//     (s3.go) on S3-compatible storage with Object Lock in COMPLIANCE mode,
//     where the storage itself refuses early deletes.
//   - ReadRecord, ReadIndex and Verify (read.go) get one record by range,
//     list a stored segment's records, and check a segment end to end.
//
// The blobs are opaque here: they are already AES-GCM ciphertexts sealed by
// internal/archive/keys, so a segment's confidentiality and each record's
// authenticity come from there; the hashes here catch corruption and
// truncation without any key.
package segments
