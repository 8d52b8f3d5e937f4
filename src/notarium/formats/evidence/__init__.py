"""The web-capture evidence package format: WARC, WACZ, manifest, ZIP."""
