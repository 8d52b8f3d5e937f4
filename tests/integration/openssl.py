"""Drives the real `openssl ts` so tokens are judged by an implementation we did not write."""

from __future__ import annotations

import subprocess
from pathlib import Path


def run(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["openssl", *map(str, args)], input=stdin, capture_output=True, check=False, timeout=60
    )


def query(data: Path, *extra: str) -> bytes:
    result = run("ts", "-query", "-data", data, *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout


def verify(reply: Path, ca: Path, *extra: str | Path) -> tuple[bool, str]:
    result = run("ts", "-verify", "-in", reply, "-CAfile", ca, *extra)
    output = (result.stdout + result.stderr).decode(errors="replace")
    return result.returncode == 0 and "Verification: OK" in output, output


def reply_text(reply: Path) -> str:
    result = run("ts", "-reply", "-in", reply, "-text")
    return (result.stdout + result.stderr).decode(errors="replace")
