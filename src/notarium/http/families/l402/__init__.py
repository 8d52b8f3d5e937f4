"""/api/l402 (l402-pay-per-request-api.txt)."""
