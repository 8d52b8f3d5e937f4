"""Waiting for things the tests start (servers, workers, browsers, daemons, fakes), and
reaping the processes among them.

A loaded machine makes every start-up slower, never a test wrong: waits poll for
readiness up to one generous deadline, ``NOTARIUM_TEST_DEADLINE`` seconds (120 by
default), instead of sleeping a fixed time or giving up after a few seconds.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Awaitable, Callable

DEADLINE = float(os.environ.get("NOTARIUM_TEST_DEADLINE", "120"))


def wait_for(
    ready: Callable[[], object],
    what: str,
    *,
    timeout: float = DEADLINE,
    interval: float = 0.05,
    alive: Callable[[], str | None] | None = None,
) -> None:
    """Polls ``ready`` until it returns something true. ``alive`` returns why waiting is
    pointless (a process that exited, with its log), or None to keep waiting."""
    deadline = time.monotonic() + timeout
    while True:
        if alive is not None and (reason := alive()) is not None:
            raise AssertionError(f"{what}: {reason}")
        if ready():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)


async def async_wait_for(
    ready: Callable[[], Awaitable[object]],
    what: str,
    *,
    timeout: float = DEADLINE,
    interval: float = 0.05,
) -> None:
    deadline = time.monotonic() + timeout
    while not await ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        await asyncio.sleep(interval)


def reap(process: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float = 30) -> None:
    """Stops ``process`` (SIGTERM, then SIGKILL after ``grace`` seconds) and waits for it,
    so no child outlives its test or is left unwaited for."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()
