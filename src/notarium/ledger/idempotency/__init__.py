"""Idempotency keys for create requests (draft-ietf-httpapi-idempotency-key-header)."""
