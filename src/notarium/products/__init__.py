"""Products on the ledger: web capture, PDF seal, certificate PDFs, L402."""
