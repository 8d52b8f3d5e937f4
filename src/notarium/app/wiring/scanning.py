"""The scanner an operator configured, built from the settings."""

from __future__ import annotations

from notarium.adapters.scanning.clamd import ClamdScanner
from notarium.adapters.scanning.disabled import NoScanner
from notarium.adapters.scanning.ports import MalwareScanner
from notarium.app.settings import Settings


def build_scanner(settings: Settings) -> MalwareScanner:
    """clamd when ``NOTARIUM_CLAMD_ADDRESS`` is set, else the NoScanner stand-in."""
    if not settings.clamd_address:
        return NoScanner()
    return ClamdScanner(settings.clamd_address, timeout=settings.clamd_timeout)
