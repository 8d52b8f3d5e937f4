"""ClamAV's ``clamd`` as the malware scanner, spoken to over its socket (clamd(8)).

Why the protocol is spoken here rather than through a client library: the old ``clamd``
package has not been released since 2014, and its maintained forks (``clamav-client``,
``clamdpy``) keep its ``instream`` unchanged in the ways that matter for uploads. They
write the whole stream before reading anything back, so when clamd refuses a stream over
its ``StreamMaxLength`` (it answers at once and closes) the caller gets a bare
``BrokenPipeError`` instead of clamd's answer; ``clamav-client`` also writes with
``send`` (a partial write silently drops bytes) and arms its timeout only after
``connect``. None of them is a dependency already. What notarium needs is three commands
— ``PING``, ``VERSION`` and ``INSTREAM`` — of a small documented protocol, so they live in
this module and are tested against a real clamd.

The wire format: commands are sent ``z``-prefixed and NUL-terminated, so every reply ends
in NUL. ``zINSTREAM\\0`` is followed by chunks, each a 4-byte big-endian length and that
many bytes, then a zero length; clamd then answers ``stream: OK``, ``stream: <name> FOUND``
or ``<reason> ERROR`` (``INSTREAM size limit exceeded. ERROR`` past ``StreamMaxLength``).
"""

from __future__ import annotations

import re
import socket
import struct
from typing import IO

from notarium.adapters.scanning.address import ClamdAddress, parse_clamd_address
from notarium.adapters.scanning.ports import ScanLimitExceeded, ScannerUnavailable, ScanVerdict
from notarium.core.errors import ConfigurationError

DEFAULT_TIMEOUT = 30.0
DEFAULT_CHUNK_SIZE = 64 * 1024
# Replies are one short line; anything longer is not clamd talking.
_MAX_REPLY = 16 * 1024
_END_OF_STREAM = struct.pack(">I", 0)
_FOUND = re.compile(r"stream: (?P<name>.+) FOUND")


def parse_instream_reply(reply: str) -> ScanVerdict:
    """clamd's answer to INSTREAM as a verdict; an error answer raises ScannerUnavailable."""
    text = reply.strip("\0\r\n ")
    if text == "stream: OK":
        return ScanVerdict(clean=True)
    found = _FOUND.fullmatch(text)
    if found:
        return ScanVerdict(clean=False, signature=found["name"])
    if "size limit exceeded" in text:
        raise ScanLimitExceeded(
            "clamd refused the upload as larger than its StreamMaxLength; "
            "raise StreamMaxLength in clamd.conf above the upload limit"
        )
    if text.endswith("ERROR"):
        raise ScannerUnavailable(f"clamd could not scan the upload: {text[:-5].strip()}")
    raise ScannerUnavailable(f"clamd sent an unexpected reply: {text[:200]!r}")


class ClamdScanner:
    """Streams content to clamd with INSTREAM, one connection per scan.

    Memory stays at one chunk whatever the stream's size. ``timeout`` bounds connecting
    and every single read or write, including the wait for the verdict after the last
    chunk (clamd scans only then).
    """

    def __init__(
        self,
        address: ClamdAddress | str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self._address = parse_clamd_address(address) if isinstance(address, str) else address
        if timeout <= 0:
            raise ConfigurationError("the clamd timeout must be positive")
        if not 0 < chunk_size < 2**32:
            raise ConfigurationError("the clamd chunk size must fit in 32 bits")
        self._timeout = timeout
        self._chunk_size = chunk_size

    @property
    def address(self) -> ClamdAddress:
        return self._address

    @property
    def name(self) -> str:
        return f"clamd at {self._address}"

    def ping(self) -> None:
        """Health check: returns when clamd answers PONG, else raises ScannerUnavailable."""
        reply = self._command(b"PING")
        if reply != "PONG":
            raise ScannerUnavailable(f"clamd answered PING with {reply[:200]!r}")

    def version(self) -> str:
        """clamd's version line, e.g. ``ClamAV 1.4.6/27500/...`` (engine/database/date)."""
        return self._command(b"VERSION")

    def scan(self, stream: IO[bytes]) -> ScanVerdict:
        with self._connect() as sock:
            try:
                self._send_stream(sock, stream)
            except (BrokenPipeError, ConnectionResetError) as exc:
                # clamd stops reading and answers at once when it refuses a stream, so its
                # reason is usually still waiting on the socket.
                try:
                    reply = self._read_reply(sock)
                except ScannerUnavailable:
                    raise ScannerUnavailable(
                        f"clamd at {self._address} closed the connection mid-stream "
                        f"({_reason(exc, self._timeout)})"
                    ) from exc
                return parse_instream_reply(reply)
            except OSError as exc:
                raise ScannerUnavailable(
                    f"streaming to clamd at {self._address} failed: {_reason(exc, self._timeout)}"
                ) from exc
            reply = self._read_reply(sock)
        return parse_instream_reply(reply)

    def _send_stream(self, sock: socket.socket, stream: IO[bytes]) -> None:
        sock.sendall(b"zINSTREAM\0")
        while chunk := stream.read(self._chunk_size):
            sock.sendall(struct.pack(">I", len(chunk)) + chunk)
        sock.sendall(_END_OF_STREAM)

    def _command(self, command: bytes) -> str:
        with self._connect() as sock:
            try:
                sock.sendall(b"z" + command + b"\0")
            except OSError as exc:
                raise ScannerUnavailable(
                    f"sending {command.decode()} to clamd at {self._address} failed: "
                    f"{_reason(exc, self._timeout)}"
                ) from exc
            reply = self._read_reply(sock)
        if reply.endswith("ERROR") or reply == "UNKNOWN COMMAND":
            raise ScannerUnavailable(f"clamd refused {command.decode()}: {reply[:200]}")
        return reply

    def _connect(self) -> socket.socket:
        try:
            if self._address.scheme == "tcp":
                return socket.create_connection(
                    (self._address.host, self._address.port), timeout=self._timeout
                )
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(self._timeout)
                sock.connect(self._address.path)
            except BaseException:
                sock.close()
                raise
            return sock
        except OSError as exc:
            raise ScannerUnavailable(
                f"clamd at {self._address} is unreachable: {_reason(exc, self._timeout)}"
            ) from exc

    def _read_reply(self, sock: socket.socket) -> str:
        reply = bytearray()
        try:
            while (data := sock.recv(4096)) and b"\0" not in data:
                reply += data
                if len(reply) > _MAX_REPLY:
                    raise ScannerUnavailable(f"clamd at {self._address} sent an overlong reply")
            reply += data.split(b"\0", 1)[0]
        except OSError as exc:
            raise ScannerUnavailable(
                f"reading clamd's reply from {self._address} failed: {_reason(exc, self._timeout)}"
            ) from exc
        if not reply:
            raise ScannerUnavailable(f"clamd at {self._address} closed the connection unanswered")
        return reply.decode("utf-8", "replace").strip()


def _reason(exc: OSError, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    return exc.strerror or str(exc) or type(exc).__name__
