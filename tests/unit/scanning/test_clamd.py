"""ClamdScanner against a real clamd (Debian's) with a database the fixture wrote."""

from __future__ import annotations

import io
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.clamd import (
    EICAR,
    EICAR_SIGNATURE,
    HASH_SAMPLE,
    HASH_SAMPLE_SIGNATURE,
    STREAM_MAX_BYTES,
    ClamdDaemon,
)
from notarium.adapters.scanning.clamd import ClamdScanner
from notarium.adapters.scanning.policy import require_clean
from notarium.adapters.scanning.ports import (
    MalwareDetected,
    MalwareScanner,
    ScanLimitExceeded,
    ScannerUnavailable,
)
from notarium.app.settings import Settings
from notarium.app.wiring.scanning import build_scanner

from .support import RecordingStream

pytestmark = pytest.mark.slow


@pytest.fixture(params=["unix", "tcp"])
def scanner(request: pytest.FixtureRequest, clamd_daemon: ClamdDaemon) -> ClamdScanner:
    address = clamd_daemon.unix_address if request.param == "unix" else clamd_daemon.tcp_address
    return ClamdScanner(address, timeout=30)


def _clean_bytes(size: int) -> bytes:
    # Random bytes: nothing in the test database can match them by chance.
    return os.urandom(size)


def test_satisfies_the_protocol(scanner: ClamdScanner) -> None:
    assert isinstance(scanner, MalwareScanner)
    assert scanner.name.startswith("clamd at ")


def test_ping_and_version(scanner: ClamdScanner) -> None:
    scanner.ping()
    assert scanner.version().startswith("ClamAV ")


def test_clean_content_is_clean(scanner: ClamdScanner) -> None:
    stream = RecordingStream(b"%PDF-1.7\n" + _clean_bytes(20_000))
    verdict = scanner.scan(stream)
    assert verdict.clean
    assert verdict.signature is None
    assert verdict.scanned
    assert stream.exhausted


def test_eicar_is_found_by_name(scanner: ClamdScanner) -> None:
    verdict = scanner.scan(io.BytesIO(EICAR))
    assert not verdict.clean
    assert verdict.signature == EICAR_SIGNATURE


def test_hash_signature_matches_the_whole_file(scanner: ClamdScanner) -> None:
    verdict = scanner.scan(io.BytesIO(HASH_SAMPLE))
    assert (verdict.clean, verdict.signature) == (False, HASH_SAMPLE_SIGNATURE)
    # One byte more and the hash no longer matches.
    assert scanner.scan(io.BytesIO(HASH_SAMPLE + b"\n")).clean


def test_eicar_split_across_chunks_inside_a_larger_stream(clamd_daemon: ClamdDaemon) -> None:
    chunk = 4096
    scanner = ClamdScanner(clamd_daemon.unix_address, chunk_size=chunk)
    start = 25 * chunk - 30  # EICAR straddles the 25th chunk boundary
    data = _clean_bytes(start) + EICAR + _clean_bytes(300_000)
    stream = RecordingStream(data)

    verdict = scanner.scan(stream)

    assert (verdict.clean, verdict.signature) == (False, EICAR_SIGNATURE)
    assert stream.exhausted
    assert max(stream.reads) == chunk
    assert start // chunk != (start + len(EICAR) - 1) // chunk


def test_a_large_clean_stream_streams_in_bounded_chunks(scanner: ClamdScanner) -> None:
    stream = RecordingStream(_clean_bytes(8 * 1024 * 1024))
    verdict = scanner.scan(stream)
    assert verdict.clean
    assert stream.exhausted
    assert len(stream.reads) == 8 * 1024 * 1024 // (64 * 1024)
    assert max(stream.reads) == 64 * 1024


def test_past_stream_max_length_is_a_clear_refusal(scanner: ClamdScanner) -> None:
    data = io.BytesIO(_clean_bytes(STREAM_MAX_BYTES + 1024 * 1024))
    with pytest.raises(ScanLimitExceeded, match="StreamMaxLength") as caught:
        scanner.scan(data)
    assert isinstance(caught.value, ScannerUnavailable)
    assert caught.value.code == "scan_limit_exceeded"
    # The daemon goes on serving after refusing one stream.
    assert scanner.scan(io.BytesIO(b"hello")).clean


def test_require_clean_refuses_malware_with_its_signature(clamd_daemon: ClamdDaemon) -> None:
    scanner = ClamdScanner(clamd_daemon.unix_address)
    with pytest.raises(MalwareDetected, match=EICAR_SIGNATURE.replace(".", r"\.")) as caught:
        require_clean(scanner, io.BytesIO(b"prefix " + EICAR))
    assert caught.value.code == "malware_detected"
    assert require_clean(scanner, io.BytesIO(b"a clean letter")).clean


def test_built_from_settings(clamd_daemon: ClamdDaemon, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, clamd_address=clamd_daemon.tcp_address)
    scanner = build_scanner(settings)
    assert isinstance(scanner, ClamdScanner)
    assert not scanner.scan(io.BytesIO(EICAR)).clean


def test_concurrent_scans_each_get_their_own_verdict(clamd_daemon: ClamdDaemon) -> None:
    scanner = ClamdScanner(clamd_daemon.unix_address)
    results: dict[int, bool] = {}

    def scan(index: int) -> None:
        content = (EICAR if index % 2 else b"") + _clean_bytes(200_000)
        results[index] = scanner.scan(io.BytesIO(content)).clean

    threads = [threading.Thread(target=scan, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {i: i % 2 == 0 for i in range(8)}


# --- clamd not there, or not answering -------------------------------------------------


def test_missing_socket_is_unavailable(tmp_path: Path) -> None:
    scanner = ClamdScanner(f"unix://{tmp_path}/absent.ctl")
    with pytest.raises(ScannerUnavailable, match="unreachable"):
        scanner.scan(io.BytesIO(b"data"))
    with pytest.raises(ScannerUnavailable, match="unreachable"):
        scanner.ping()


def test_stale_socket_of_a_dead_daemon_is_unavailable(tmp_path: Path) -> None:
    # What a killed clamd leaves behind: the socket file, with nobody listening.
    path = tmp_path / "stale.ctl"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))
    with pytest.raises(ScannerUnavailable, match="Connection refused"):
        ClamdScanner(f"unix://{path}").scan(io.BytesIO(b"data"))


def test_closed_tcp_port_is_unavailable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ScannerUnavailable, match="unreachable"):
        ClamdScanner(f"tcp://127.0.0.1:{port}", timeout=5).ping()


def test_stopped_daemon_is_unavailable(tmp_path_factory: pytest.TempPathFactory) -> None:
    with ClamdDaemon(tmp_path_factory.mktemp("clamd-stop")) as daemon:
        scanner = ClamdScanner(daemon.unix_address, timeout=30)
        assert scanner.scan(io.BytesIO(b"up")).clean
    assert not daemon.running
    with pytest.raises(ScannerUnavailable):
        scanner.scan(io.BytesIO(b"down"))


@pytest.fixture
def silent_listener(tmp_path: Path) -> Iterator[Path]:
    """Accepts connections into its backlog and never answers: a hung clamd."""
    path = tmp_path / "hung.ctl"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(8)
        yield path


def test_a_daemon_that_never_answers_times_out(silent_listener: Path) -> None:
    scanner = ClamdScanner(f"unix://{silent_listener}", timeout=0.5)
    with pytest.raises(ScannerUnavailable, match=r"no answer within 0\.5 s"):
        scanner.scan(io.BytesIO(b"small"))
    with pytest.raises(ScannerUnavailable, match=r"no answer within 0\.5 s"):
        scanner.ping()
