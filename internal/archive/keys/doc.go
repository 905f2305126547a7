// Package keys is the archive's encryption at rest and crypto-shredding.
//
// The hierarchy has three levels:
//
//   - a key-encryption key (KEK), the root: a 256-bit key mounted from a
//     Kubernetes Secret (LocalKEK) or, later, a cloud KMS or Vault Transit key
//     behind the same KEK interface. A KeyRing holds the current KEK, which
//     wraps, and older ones, which only unwrap, so the root can rotate.
//   - a data-encryption key (DEK) per Scope: tenant, account and expiry
//     bucket, the calendar month (UTC) in which captured_at + retention falls.
//     DEKs are stored only wrapped, in a Store.
//   - AES-256-GCM per record, with a 96-bit random nonce and additional data
//     that binds the ciphertext to its record id, tenant, account, schema
//     version and DEK id.
//
// Purging a bucket destroys its wrapped DEK (Manager.Destroy): every record
// sealed under it becomes unreadable at once, wherever its ciphertext lives
// (WORM segments, backups, replicas), without rewriting any of it. The
// tamper-evident log holds only commitments, so its proofs stay valid.
//
// docs/archive-encryption.md describes the formats byte by byte.
package keys
