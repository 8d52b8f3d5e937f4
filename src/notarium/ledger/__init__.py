"""Pipeline services (records, tokens, anchoring, log, proofs, accounts); own the transactions."""
