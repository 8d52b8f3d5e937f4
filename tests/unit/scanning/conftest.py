"""The real clamd for the scanner tests."""

from fakes.clamd import clamd_daemon  # noqa: F401
