"""Runs `notarium serve` as a real process on a free loopback port."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from readiness import DEADLINE, reap, wait_for

NOTARIUM = str(Path(sys.executable).with_name("notarium"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    api_key: str = ""
    log: Path | None = None
    notarium: str = NOTARIUM
    """The ``notarium`` command to run (another installation's, for instance)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.notarium, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stderr + result.stdout
        return result

    def start(self) -> None:
        self.log = self.data_dir.parent / f"server-{self.port}.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [self.notarium, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        process, log = self.process, self.log

        def healthy() -> bool:
            try:
                return httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        def exited() -> str | None:
            if process.poll() is None:
                return None
            return f"exited with status {process.returncode}: {log.read_text()}"

        try:
            wait_for(healthy, "notarium serve answering /healthz", interval=0.1, alive=exited)
        except BaseException:
            self.stop()
            raise
        match = re.search(r"API key:\s+(ntk_live_\S+)", self.log.read_text())
        if match:
            self.api_key = match.group(1)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
        # A server that ignores the signal is killed: none outlives its test.
        reap(self.process)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARIUM_")}
    # Only loopback is reachable from tests: no public calendars unless a test names its own.
    env.update({"NOTARIUM_DATA_DIR": str(data_dir), "NOTARIUM_OTS_CALENDARS": "", **extra})
    return env
