"""Anchors: where a batch root is committed so that records become provable without
trusting the operator (OpenTimestamps calendars, Bitcoin, external RFC 3161 TSAs)."""
