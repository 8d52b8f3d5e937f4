"""A real ClamAV daemon (Debian's ``/usr/sbin/clamd``) with a signature database the
tests write, on a Unix socket in a temporary directory and a loopback TCP port.

No freshclam and no network: the database holds only the signatures below, so clamd
starts in about a second. The ``.ndb`` body signature finds the EICAR string anywhere in
a stream; the ``.hdb`` hash signature matches one whole file. clamd appends
``.UNOFFICIAL`` to names from databases that are not ClamAV's own.

Use the session fixture by importing it into a conftest::

    from fakes.clamd import clamd_daemon  # noqa: F401

then ``ClamdScanner(clamd_daemon.unix_address)``.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from readiness import DEADLINE, reap

CLAMD = "/usr/sbin/clamd"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_SIGNATURE = "Notarium.Test.EICAR-Body.UNOFFICIAL"
HASH_SAMPLE = b"notarium test sample matched by its MD5 hash signature\n"
HASH_SAMPLE_SIGNATURE = "Notarium.Test.Hash-Sample.UNOFFICIAL"
# Above the 10 MiB upload limit, so every allowed upload fits; tests exceed it on purpose.
STREAM_MAX_BYTES = 12 * 1024 * 1024
STARTUP_TIMEOUT = DEADLINE


class ClamdDaemon:
    """Starts clamd in ``directory`` (its config, database, socket, pid and log live there)."""

    def __init__(self, directory: Path, *, stream_max_bytes: int = STREAM_MAX_BYTES) -> None:
        # AF_UNIX paths are limited to 107 bytes; pytest's temp paths can be longer.
        if len(str(directory / "clamd.sock")) > 100:
            raise ValueError(f"{directory} is too long a path for a Unix socket")
        self.directory = directory
        self.stream_max_bytes = stream_max_bytes
        self.socket_path = directory / "clamd.sock"
        self.log_path = directory / "clamd.log"
        self.tcp_port = _free_loopback_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def unix_address(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def tcp_address(self) -> str:
        return f"tcp://127.0.0.1:{self.tcp_port}"

    def start(self) -> None:
        if not os.access(CLAMD, os.X_OK):
            raise RuntimeError(
                f"{CLAMD} is missing: install the Debian package clamav-daemon "
                "(scripts/system-deps.sh does)"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_database()
        config = self.directory / "clamd.conf"
        config.write_text(self._config())
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [CLAMD, "--config-file", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_answering()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        reap(process, grace=15)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _write_database(self) -> None:
        (self.directory / "notarium-test.ndb").write_text(
            f"{EICAR_SIGNATURE.removesuffix('.UNOFFICIAL')}:0:*:{EICAR.hex()}\n"
        )
        md5 = hashlib.md5(HASH_SAMPLE).hexdigest()  # noqa: S324 - the .hdb format is MD5
        (self.directory / "notarium-test.hdb").write_text(
            f"{md5}:{len(HASH_SAMPLE)}:{HASH_SAMPLE_SIGNATURE.removesuffix('.UNOFFICIAL')}\n"
        )

    def _config(self) -> str:
        # No `User`: as root clamd keeps running as root, as anyone else it runs as them.
        # No LogFile/LogSyslog: clamd writes to stdout, which goes to clamd.log here.
        return "\n".join(
            [
                "Foreground yes",
                f"LocalSocket {self.socket_path}",
                "FixStaleSocket yes",
                f"TCPSocket {self.tcp_port}",
                "TCPAddr 127.0.0.1",
                f"DatabaseDirectory {self.directory}",
                f"TemporaryDirectory {self.directory}",
                f"PidFile {self.directory / 'clamd.pid'}",
                f"StreamMaxLength {self.stream_max_bytes}",
                "MaxThreads 4",
                "SelfCheck 0",
                "",
            ]
        )

    def _wait_until_answering(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"clamd exited with status {self._process.returncode}:\n{self._log_tail()}"
                )
            if self._answers_ping():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"clamd did not answer PING within {STARTUP_TIMEOUT:g} s")

    def _answers_ping(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1.0)
                sock.connect(str(self.socket_path))
                sock.sendall(b"zPING\0")
                return sock.recv(16) == b"PONG\0"
        except OSError:
            return False

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def clamd_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdDaemon]:
    """One clamd for the session. Fails (never skips) when clamd cannot run."""
    daemon = ClamdDaemon(tmp_path_factory.mktemp("clamd"))
    try:
        daemon.start()
    except RuntimeError as exc:
        pytest.fail(f"cannot run a real clamd: {exc}", pytrace=False)
    yield daemon
    daemon.stop()
