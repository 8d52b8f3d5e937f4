"""Infrastructure: database, key files, egress, scanner, Lightning, rate limits."""
