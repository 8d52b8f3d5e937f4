"""One loop for every background job. It runs inside `notarium serve` (embedded) or in
any number of `notarium worker` processes (scaled); rows and row locks, not memory, say
what is left to do, so the loops may die and restart at any moment."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger("notarium.app.workers")


@dataclass(frozen=True)
class Job:
    name: str
    step: Callable[[], int]
    """Does one round of work; returns how many items it handled."""


class WorkerLoop:
    def __init__(self, jobs: Sequence[Job], *, poll_interval: float) -> None:
        self.jobs = tuple(jobs)
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        done = 0
        for job in self.jobs:
            try:
                done += job.step()
            except Exception:
                # A failing job must not starve the others; its rows stay due and are
                # picked up on the next round.
                log.exception("background job %s failed", job.name)
        return done

    def run_forever(self) -> None:
        while not self._stop.is_set():
            if self.run_once() == 0:
                self._stop.wait(self.poll_interval)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.run_forever, name="notarium-worker", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
