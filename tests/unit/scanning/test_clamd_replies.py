"""How ClamdScanner reads and judges replies, including ones a healthy clamd never sends,
from a scripted server on a Unix socket."""

from __future__ import annotations

import io
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from notarium.adapters.scanning.clamd import ClamdScanner, parse_instream_reply
from notarium.adapters.scanning.ports import ScanLimitExceeded, ScannerUnavailable, ScanVerdict


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("stream: OK", ScanVerdict(clean=True)),
        ("stream: OK\0", ScanVerdict(clean=True)),
        ("stream: Eicar-Signature FOUND", ScanVerdict(clean=False, signature="Eicar-Signature")),
        # ExtendedDetectionInfo (Debian's default) appends the hash and size.
        (
            "stream: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND\0",
            ScanVerdict(
                clean=False, signature="Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68)"
            ),
        ),
    ],
)
def test_verdicts(reply: str, verdict: ScanVerdict) -> None:
    assert parse_instream_reply(reply) == verdict


def test_size_limit_reply() -> None:
    with pytest.raises(ScanLimitExceeded, match="StreamMaxLength"):
        parse_instream_reply("INSTREAM size limit exceeded. ERROR")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("stream: Can't allocate memory ERROR", "could not scan the upload: stream: Can't"),
        ("COMMAND READ TIMED OUT", "unexpected reply"),
        ("UNKNOWN COMMAND", "unexpected reply"),
        ("stream: FOUND", "unexpected reply"),
        ("", "unexpected reply"),
    ],
)
def test_error_and_unknown_replies_are_unavailable(reply: str, message: str) -> None:
    with pytest.raises(ScannerUnavailable, match=message):
        parse_instream_reply(reply)


class ScriptedClamd:
    """Reads one command (and, for INSTREAM, its chunks), then sends ``parts`` with
    pauses between them, then closes."""

    def __init__(self, path: Path, parts: list[bytes]) -> None:
        self.path = path
        self.parts = parts
        self.received = bytearray()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        connection, _ = self._server.accept()
        with connection:
            command = self._read_until(connection, b"\0")
            if command == b"zINSTREAM\0":
                while True:
                    size = struct.unpack(">I", self._read_exactly(connection, 4))[0]
                    if size == 0:
                        break
                    self.received += self._read_exactly(connection, size)
            try:
                for part in self.parts:
                    connection.sendall(part)
                    threading.Event().wait(0.02)
            except OSError:
                pass  # the client hung up first, as it does on an overlong reply

    @staticmethod
    def _read_until(connection: socket.socket, end: bytes) -> bytes:
        data = b""
        while not data.endswith(end):
            data += connection.recv(1)
        return data

    @staticmethod
    def _read_exactly(connection: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            data += connection.recv(size - len(data))
        return data

    def close(self) -> None:
        self._thread.join(timeout=5)
        self._server.close()


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[list[ScriptedClamd]]:
    servers: list[ScriptedClamd] = []
    yield servers
    for server in servers:
        server.close()


def _serve(tmp_path: Path, servers: list[ScriptedClamd], parts: list[bytes]) -> ClamdScanner:
    server = ScriptedClamd(tmp_path / f"clamd{len(servers)}.ctl", parts)
    servers.append(server)
    return ClamdScanner(f"unix://{server.path}", timeout=5, chunk_size=7)


def test_a_reply_split_across_reads_is_joined(
    tmp_path: Path, scripted: list[ScriptedClamd]
) -> None:
    scanner = _serve(tmp_path, scripted, [b"stream: Some.Sig", b"nature FOUND\0"])
    verdict = scanner.scan(io.BytesIO(b"twenty-one bytes long"))
    assert verdict == ScanVerdict(clean=False, signature="Some.Signature")
    # The chunks arrived whole and in order.
    assert scripted[0].received == b"twenty-one bytes long"


def test_closing_without_an_answer_is_unavailable(
    tmp_path: Path, scripted: list[ScriptedClamd]
) -> None:
    scanner = _serve(tmp_path, scripted, [])
    with pytest.raises(ScannerUnavailable, match="closed the connection unanswered"):
        scanner.scan(io.BytesIO(b"data"))


def test_an_overlong_reply_is_unavailable(tmp_path: Path, scripted: list[ScriptedClamd]) -> None:
    scanner = _serve(tmp_path, scripted, [b"x" * 40_000])
    with pytest.raises(ScannerUnavailable, match="overlong reply"):
        scanner.scan(io.BytesIO(b"data"))


def test_an_error_reply_is_unavailable(tmp_path: Path, scripted: list[ScriptedClamd]) -> None:
    scanner = _serve(tmp_path, scripted, [b"stream: lstat() failed ERROR\0"])
    with pytest.raises(ScannerUnavailable, match="lstat"):
        scanner.scan(io.BytesIO(b"data"))


def test_ping_needs_pong(tmp_path: Path, scripted: list[ScriptedClamd]) -> None:
    scanner = _serve(tmp_path, scripted, [b"UNKNOWN COMMAND\0"])
    with pytest.raises(ScannerUnavailable, match="refused PING"):
        scanner.ping()
    scanner = _serve(tmp_path, scripted, [b"PANG\0"])
    with pytest.raises(ScannerUnavailable, match="answered PING with 'PANG'"):
        scanner.ping()
