"""Tamper-evident results: the inputs a run read (inputs), the hashes of the files it wrote
(manifest, seal), their optional Ed25519 signature (signing) and `golive verify` (verify,
verify_cli). docs/audit.md tells the whole story."""
