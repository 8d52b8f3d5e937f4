"""One package per route family (seed document)."""
