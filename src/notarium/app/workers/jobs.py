"""The background jobs of a runtime, for the embedded loop and `notarium worker` alike."""

from __future__ import annotations

from notarium.app.runtime import Runtime
from notarium.app.workers.loop import Job, WorkerLoop


def background_jobs(runtime: Runtime) -> list[Job]:
    return [
        Job("translog", runtime.translog.integrate),
        Job("batcher", lambda: len(runtime.anchoring.run_batcher())),
        Job("anchors", runtime.anchoring.progress_anchors),
        Job("webhooks", runtime.webhooks.deliver_due),
        Job("l402", runtime.l402.background_step),
    ]


def worker_loop(runtime: Runtime) -> WorkerLoop:
    return WorkerLoop(background_jobs(runtime), poll_interval=runtime.settings.worker_poll_interval)
