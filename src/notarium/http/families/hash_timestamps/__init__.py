"""/api/v1/timestamps (hash-timestamps-api.txt)."""
