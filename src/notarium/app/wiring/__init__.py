"""Builders the runtime calls, one per configurable service."""
