"""RFC 3161 time-stamp tokens: parsing, checking, and the reply wrapper."""
