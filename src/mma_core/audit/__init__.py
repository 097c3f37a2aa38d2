"""Tamper evidence for the programme's history: leaves, the Merkle tree, signed checkpoints,
verification and the auditors' export. The format is specified in ``docs/audit-format.md``."""
