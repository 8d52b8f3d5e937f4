"""/api/v1/seal (pdf-seal-api.txt)."""
