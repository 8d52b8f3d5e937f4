"""/api/v1/certificates (web-capture-certificates-api.txt)."""
