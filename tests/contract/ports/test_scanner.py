"""The ``MalwareScanner`` contract, for clamd (a real one, with a database the fixture
wrote) and the in-process fake: clean content is clean, the EICAR test string is found
wherever it sits in the stream, the stream is read to its end, and a scanner that cannot
scan says so rather than waving the upload through."""

from __future__ import annotations

import io
import os
import socket
from collections.abc import Callable

import pytest

from fakes.clamd import EICAR, ClamdDaemon
from notarium.adapters.scanning.clamd import ClamdScanner
from notarium.adapters.scanning.fakes import FakeScanner
from notarium.adapters.scanning.ports import MalwareScanner, ScannerUnavailable

pytestmark = pytest.mark.slow

Make = Callable[[], MalwareScanner]


def _closed_port() -> int:
    """A loopback port nothing listens on once the probe is closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["clamd", "fake"])
def make(request: pytest.FixtureRequest) -> tuple[Make, Make]:
    """A working scanner, and one that cannot reach its engine."""
    if request.param == "fake":
        return FakeScanner, lambda: FakeScanner(unavailable="the fake scanner is switched off")
    daemon: ClamdDaemon = request.getfixturevalue("clamd_daemon")
    unreachable = f"tcp://127.0.0.1:{_closed_port()}"
    return (
        lambda: ClamdScanner(daemon.unix_address, timeout=30),
        lambda: ClamdScanner(unreachable, timeout=5),
    )


def test_it_satisfies_the_protocol(make: tuple[Make, Make]) -> None:
    working, _ = make
    assert isinstance(working(), MalwareScanner)


def test_clean_content_is_clean_and_scanned(make: tuple[Make, Make]) -> None:
    working, _ = make
    verdict = working().scan(io.BytesIO(os.urandom(200_000)))
    assert verdict.clean and verdict.scanned and verdict.signature is None


@pytest.mark.parametrize("offset", [0, 100_000, 65_536 - 10])
def test_the_test_string_is_found_wherever_it_sits(make: tuple[Make, Make], offset: int) -> None:
    working, _ = make
    data = os.urandom(offset) + EICAR + os.urandom(1_000)
    verdict = working().scan(io.BytesIO(data))
    assert not verdict.clean and verdict.scanned
    assert verdict.signature


def test_the_stream_is_read_to_its_end(make: tuple[Make, Make]) -> None:
    working, _ = make
    stream = io.BytesIO(os.urandom(300_000))
    working().scan(stream)
    assert stream.read() == b""


def test_a_scanner_that_cannot_scan_refuses(make: tuple[Make, Make]) -> None:
    _, broken = make
    with pytest.raises(ScannerUnavailable):
        broken().scan(io.BytesIO(b"anything"))
