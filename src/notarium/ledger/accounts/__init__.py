"""Accounts, plans and API keys."""
