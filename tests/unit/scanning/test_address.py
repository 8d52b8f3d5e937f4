"""NOTARIUM_CLAMD_ADDRESS forms."""

from __future__ import annotations

import pytest

from notarium.adapters.scanning.address import ClamdAddress, parse_clamd_address
from notarium.adapters.scanning.clamd import ClamdScanner
from notarium.core.errors import ConfigurationError


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("unix:///run/clamav/clamd.ctl", ClamdAddress("unix", path="/run/clamav/clamd.ctl")),
        ("/run/clamav/clamd.ctl", ClamdAddress("unix", path="/run/clamav/clamd.ctl")),
        ("tcp://127.0.0.1:3310", ClamdAddress("tcp", host="127.0.0.1", port=3310)),
        ("tcp://127.0.0.1", ClamdAddress("tcp", host="127.0.0.1", port=3310)),
        ("tcp://[::1]:4000", ClamdAddress("tcp", host="::1", port=4000)),
        (" tcp://clamav.internal:3310/ ", ClamdAddress("tcp", host="clamav.internal", port=3310)),
    ],
)
def test_accepted(text: str, address: ClamdAddress) -> None:
    assert parse_clamd_address(text) == address
    assert parse_clamd_address(str(address)) == address


@pytest.mark.parametrize(
    "text",
    [
        "",
        "clamd.ctl",
        "unix://relative/clamd.ctl",
        "unix:",
        "tcp://",
        "tcp://127.0.0.1:99999",
        "tcp://127.0.0.1:0",
        "tcp://127.0.0.1:3310/path",
        "tcp://user:pw@127.0.0.1:3310",
        "http://127.0.0.1:3310",
        "tcp://127.0.0.1:3310?x=1",
    ],
)
def test_refused(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_clamd_address(text)


def test_scanner_settings_are_checked() -> None:
    with pytest.raises(ConfigurationError):
        ClamdScanner("tcp://127.0.0.1", timeout=0)
    with pytest.raises(ConfigurationError):
        ClamdScanner("tcp://127.0.0.1", chunk_size=0)
