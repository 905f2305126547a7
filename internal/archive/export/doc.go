// Package export produces the archive's eDiscovery exports and verifies them.
//
// An export is a folder (or one zip stream) that a review platform can load
// and that an auditor can check without trusting Vigil:
//
//   - natives/<id>.json holds each record's stored bytes verbatim (and
//     natives/<id>.findings.json its findings), so the SHA-256 the
//     tamper-evident log committed to can be recomputed from the file;
//   - renditions in the formats asked for: RSMF 2.0 (one .rsmf per
//     conversation per UTC day), one RFC 5322 .eml per record, and a
//     Concordance DAT load file with an extracted-text file per record;
//   - attachments/<id>/… holds attachment content when the archive has it;
//   - manifest.json lists every file with its size and SHA-256 and, per
//     record, its leaf index, canonical leaf bytes and inclusion proof, plus
//     the signed checkpoint the proofs are against; manifest.sha256 is the
//     manifest's own hash, the value the completing records.export audit event records.
//
// Export renders every format from the committed record bytes, never from a
// second copy, and refuses an item whose bytes, leaf or proof do not check
// out: an export that would fail verification is never produced. Verify
// re-checks all of it from the files alone and lists every problem found.
//
// Output is deterministic: the same records, checkpoint and options give
// byte-identical files (MIME boundaries, zip timestamps and file order are
// derived from the input), so a disputed export can be reproduced.
//
// docs/exports.md describes the formats and the auditor's procedure.
package export
