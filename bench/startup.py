"""Start-up cost of the `notarium` command, against a bare interpreter start.

Run with ``.venv/bin/python bench/startup.py [--repeat 5]``.

Three commands, each timed from process start to the moment it is done, in alternating
rounds with ``python -c pass`` (the same interpreter) so that the ratios compare them
under the same load:

* ``notarium --help``: the command line alone;
* ``notarium verify FILE PROOF --trust CA``: an offline check of a real proof;
* ``notarium serve`` until ``GET /healthz`` answers 200 (an initialised embedded data
  directory: SQLite, keys in place, so this is a restart, not a first run).

The proof comes from a server the script starts first in a temporary data directory
(no calendars, no network), from a timestamp created through the API.

Targets, on an idle machine: ``--help`` under 0.5 s, ``verify`` under 1.5 s, the server
ready under 4 s (medians). The script prints the medians, their ratios to the bare
interpreter, and exits 0 only when every target is met.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
PYTHON = str(Path(sys.executable))
NOTARIUM = str(BIN / "notarium")
TARGETS = {"--help": 0.5, "verify": 1.5, "serve ready": 4.0}
READY_DEADLINE = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(data: Path) -> dict[str, str]:
    # An installed package has its bytecode compiled; with PYTHONDONTWRITEBYTECODE set,
    # every start would compile the sources again and measure that instead.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NOTARIUM_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update({"NOTARIUM_DATA_DIR": str(data), "NOTARIUM_OTS_CALENDARS": ""})
    return env


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - started


class Served:
    """`notarium serve` on a free port; ``seconds`` is the time until /healthz answered."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        started = time.perf_counter()
        with log.open("ab") as handle:
            self.process = subprocess.Popen(
                [NOTARIUM, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_ready(log)
        except BaseException:
            self.stop()
            raise
        self.seconds = time.perf_counter() - started

    def _wait_ready(self, log: Path) -> None:
        deadline = time.monotonic() + READY_DEADLINE
        with httpx.Client(timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"notarium serve exited:\n{log.read_text()[-2000:]}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.01)
        raise RuntimeError(f"notarium serve not ready within {READY_DEADLINE:g} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()


def make_proof(env: dict[str, str], work: Path) -> tuple[Path, Path, Path]:
    """A document, its proof from a first server run, and the CA to trust."""
    log = work / "first-run.log"
    server = Served(env, log)
    try:
        match = re.search(r"API key:\s+(\S+)", log.read_text())
        if match is None:
            raise RuntimeError(f"the first run printed no API key:\n{log.read_text()}")
        auth = {"Authorization": f"Bearer {match.group(1)}"}
        document = work / "minutes.txt"
        document.write_bytes(b"minutes of the meeting, signed by all present\n")
        created = httpx.post(
            f"{server.url}/api/v1/timestamps",
            headers=auth,
            json={
                "sha256_hash": hashlib.sha256(document.read_bytes()).hexdigest(),
                "filename": document.name,
                "file_size_bytes": document.stat().st_size,
            },
            timeout=60,
        )
        created.raise_for_status()
        proof = work / "minutes.proof.json"
        answer = httpx.get(
            f"{server.url}/api/v1/timestamps/{created.json()['id']}/proof",
            headers=auth,
            timeout=60,
        )
        answer.raise_for_status()
        proof.write_bytes(answer.content)
    finally:
        server.stop()
    return document, proof, Path(env["NOTARIUM_DATA_DIR"]) / "keys" / "ca.cert.pem"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (medians reported)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="notarium-startup-") as tmp:
        work = Path(tmp)
        env = environment(work / "data")
        document, proof, ca = make_proof(env, work)
        verify = [NOTARIUM, "verify", str(document), str(proof), "--trust", str(ca)]

        def serve() -> float:
            server = Served(env, work / "serve.log")
            server.stop()
            return server.seconds

        commands: dict[str, Callable[[], float]] = {
            "python -c pass": lambda: run([PYTHON, "-c", "pass"], env),
            "--help": lambda: run([NOTARIUM, "--help"], env),
            "verify": lambda: run(verify, env),
            "serve ready": serve,
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():
            command()  # warm the file cache and the bytecode; not counted
        for _ in range(options.repeat):
            for name, command in commands.items():
                samples[name].append(command())

    medians = {name: statistics.median(values) for name, values in samples.items()}
    bare = medians["python -c pass"]
    met = True
    print(f"{'command':<16} {'median':>9} {'min':>8} {'max':>8} {'÷ bare':>8}  target")
    for name, values in samples.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            ok = medians[name] < target
            met = met and ok
            verdict = f"< {target:g} s  {'met' if ok else 'MISSED'}"
        print(
            f"{name:<16} {medians[name]:>8.3f}s {min(values):>7.3f}s {max(values):>7.3f}s "
            f"{medians[name] / bare:>8.1f}  {verdict}"
        )
    print(f"({options.repeat} rounds; ratios are medians over the bare interpreter's median)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
