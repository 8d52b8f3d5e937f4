"""/v1/certificates, /v1/verify, /v1/webhooks (hash-certificates-webhooks-api.txt)."""
