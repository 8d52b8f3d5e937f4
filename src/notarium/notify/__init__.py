"""Subscribers to ledger events: webhooks and mail."""
