"""Fan webhook events out to local receivers through the durable outbox and drain it.

Run with ``.venv/bin/python bench/webhook_fanout.py [--events 1000] [--receivers 10]
[--workers 4] [--backend sqlite] [--backend postgresql]``.

One business-plan account gets ``--receivers`` endpoints, each subscribed to
``certificate.created`` and each pointing at its own fast receiver on 127.0.0.1 (a
``ThreadingHTTPServer`` in a child process that answers 200 at once and counts requests
and distinct ``webhook-id``s). ``--events`` records are created through
``RecordService.create``, so every record writes one outbox event and one delivery per
endpoint in its own transaction: 1,000 records x 10 endpoints = 10,000 deliveries by
default. The outbox is then drained by ``--workers`` threads calling
``WebhookService.deliver_due`` until none is due, and the run checks that every (event,
endpoint) pair was delivered exactly once and every receiver saw every event once.

A second phase stops one receiver: its deliveries must stay one row per event, be
retried on the schedule (the clock is moved forward rather than slept through), and once
the endpoint is switched off after ``--disable-after`` consecutive failures no attempt
and no new delivery may be made for it. No target: the figures are printed, and the exit
status is 0 only when every check held.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import multiprocessing
import os
import resource
import secrets
import socket
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

TESTS = Path(__file__).resolve().parents[1] / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from backends import postgres_available, postgres_schema  # noqa: E402
from notarium.adapters.store import migrate  # noqa: E402
from notarium.adapters.store.models import (  # noqa: E402
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from notarium.app.runtime import Runtime, build_runtime  # noqa: E402
from notarium.app.settings import Settings  # noqa: E402
from notarium.ledger.accounts.plans import plan_named  # noqa: E402
from notarium.ledger.records.values import NewRecord, Owner  # noqa: E402

EVENT = "certificate.created"
HOST = "127.0.0.1"


# -- receivers (child process) ---------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.ids: set[str] = set()
        self.open: set[socket.socket] = set()
        super().__init__((HOST, 0), _Handler)

    def stop(self) -> None:
        """Stop listening and cut every kept-alive connection: the port is then closed,
        as for a receiver that went away."""
        self.shutdown()
        self.server_close()
        with self.lock:
            conns = list(self.open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so a client could keep the connection; the notary's guarded transport
    # asks for `Connection: close` on every request anyway.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.open.add(self.connection)

    def finish(self) -> None:
        with self.server.lock:
            self.server.open.discard(self.connection)
        super().finish()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.lock:
            self.server.requests += 1
            self.server.ids.add(self.headers.get("webhook-id", ""))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


def receivers_main(conn: Connection, count: int) -> None:
    """Runs ``count`` receivers; commands: ("stop", i), ("stats",), ("quit",)."""
    servers = [_Server() for _ in range(count)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send([server.server_address[1] for server in servers])
    while True:
        command = conn.recv()
        if command[0] == "stop":
            servers[command[1]].stop()
            conn.send(True)
        elif command[0] == "stats":
            stats = []
            for server in servers:
                with server.lock:
                    stats.append((server.requests, set(server.ids)))
            conn.send(stats)
        else:
            conn.send(True)
            return


class Receivers:
    """The receivers live in their own process, so that their request handling neither
    competes with the delivery workers for the GIL nor counts towards the notary's RSS."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=receivers_main, args=(child, count), daemon=True)
        self._process.start()
        self.ports: list[int] = self._conn.recv()

    def urls(self) -> list[str]:
        return [f"http://{HOST}:{port}/hooks" for port in self.ports]

    def stop(self, index: int) -> None:
        self._conn.send(("stop", index))
        self._conn.recv()

    def stats(self) -> list[tuple[int, set[str]]]:
        self._conn.send(("stats",))
        stats: list[tuple[int, set[str]]] = self._conn.recv()
        return stats

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._conn.send(("quit",))
            self._conn.recv()
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()


# -- the notary side --------------------------------------------------------------------


class ShiftableClock:
    """The system clock plus an offset, so retry waits can be skipped instead of slept."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@dataclass
class Timings:
    """Seconds spent in each step of ``deliver_due``, summed over the worker threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                with self.lock:
                    self.seconds[name] += elapsed
                    self.calls[name] += 1

        return timed

    def reset(self) -> None:
        with self.lock:
            self.seconds.clear()
            self.calls.clear()


def instrument(runtime: Runtime) -> Timings:
    """Time the three steps of a delivery (claim, sign + send, record) by wrapping the
    service's own methods on this instance; nothing else changes."""
    timings = Timings()
    service: Any = runtime.webhooks
    service._claim = timings.wrap("claim (select + lease, one txn per batch)", service._claim)
    service._record = timings.wrap("record (attempt + state, one txn each)", service._record)
    service.sender.send = timings.wrap("send (HTTP POST over loopback)", service.sender.send)
    return timings


def drain(runtime: Runtime, workers: int, batch: int) -> tuple[int, float, list[BaseException]]:
    """``workers`` threads call ``deliver_due`` until it finds nothing due; returns the
    attempts made, the wall time and any exception a worker raised."""
    attempted = [0] * workers
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            while True:
                done = runtime.webhooks.deliver_due(limit=batch)
                if done == 0:
                    return
                attempted[index] += done
        except BaseException as error:  # reported, never swallowed
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(attempted), time.perf_counter() - started, errors


def create_records(runtime: Runtime, account_id: str, count: int) -> float:
    owner = Owner(account_id, "live")
    plan = plan_named("business")
    started = time.perf_counter()
    for i in range(count):
        runtime.records.create(
            owner,
            plan,
            NewRecord(
                sha256=secrets.token_hex(32),
                filename=f"bench-{i}.pdf",
                file_size_bytes=1024 + i,
                file_type="application/pdf",
            ),
        )
    return time.perf_counter() - started


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def percentile(sorted_values: list[int], fraction: float) -> int:
    """Nearest-rank percentile."""
    if not sorted_values:
        return 0
    rank = max(1, -(-len(sorted_values) * fraction // 1))
    return sorted_values[int(rank) - 1]


class DisableCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "disabled" in record.getMessage():
            self.messages.append(record.getMessage())


@dataclass
class Checks:
    failed: list[str] = field(default_factory=list)

    def expect(self, ok: bool, what: str) -> None:
        print(f"  [{'ok' if ok else 'FAIL'}] {what}", flush=True)
        if not ok:
            self.failed.append(what)


@dataclass
class EndpointState:
    rows: int
    pending: int
    delivered: int
    attempts: int
    active: bool
    failures: int
    reason: str | None
    next_in: tuple[float, float] | None


def endpoint_state(runtime: Runtime, endpoint_id: str) -> EndpointState:
    now = runtime.clock.now()
    with runtime.sessions() as session:
        rows = session.execute(
            select(WebhookDelivery.state, func.count(), func.sum(WebhookDelivery.attempts))
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .group_by(WebhookDelivery.state)
        ).all()
        by_state = {state: (count, attempts or 0) for state, count, attempts in rows}
        # The wait each pending delivery was given, from its latest attempt (or, never
        # attempted, from now) to its next one.
        latest = (
            select(WebhookAttempt.delivery_id, func.max(WebhookAttempt.attempted_at).label("at"))
            .group_by(WebhookAttempt.delivery_id)
            .subquery()
        )
        waits = session.execute(
            select(WebhookDelivery.next_attempt_at, latest.c.at)
            .outerjoin(latest, latest.c.delivery_id == WebhookDelivery.id)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.state == "pending")
        ).all()
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        seconds = [
            (due.replace(tzinfo=UTC) - (at.replace(tzinfo=UTC) if at else now)).total_seconds()
            for due, at in waits
        ]
        return EndpointState(
            rows=sum(c for c, _ in by_state.values()),
            pending=by_state.get("pending", (0, 0))[0],
            delivered=by_state.get("delivered", (0, 0))[0],
            attempts=sum(a for _, a in by_state.values()),
            active=endpoint.active,
            failures=endpoint.consecutive_failures,
            reason=endpoint.disabled_reason,
            next_in=(min(seconds), max(seconds)) if seconds else None,
        )


def describe(label: str, state: EndpointState) -> None:
    wait = ""
    if state.next_in and state.next_in[1] <= 0:
        wait = ", due now"
    elif state.next_in:
        wait = f", next attempt {state.next_in[0]:.1f}-{state.next_in[1]:.1f} s after the last"
    print(
        f"  {label:44} rows {state.rows:5d} (pending {state.pending}, delivered "
        f"{state.delivered}), attempts {state.attempts}, consecutive failures "
        f"{state.failures}, {'active' if state.active else 'DISABLED'}{wait}",
        flush=True,
    )


# -- the run -----------------------------------------------------------------------------


@contextlib.contextmanager
def database(backend: str) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None
        return
    with postgres_schema() as url:
        yield url


def run_backend(backend: str, args: argparse.Namespace) -> list[str]:
    checks = Checks()
    with (
        tempfile.TemporaryDirectory(prefix=f"notarium-bench-webhooks-{backend}-") as tmp,
        database(backend) as url,
    ):
        settings = Settings(
            data_dir=Path(tmp) / "data",
            database_url=url,
            ots_calendars=[],
            embedded_workers=False,
            egress_allowlist=[HOST],
            webhook_https_only=False,
            webhook_timeout=args.timeout,
            webhook_disable_after=args.disable_after,
        )
        clock = ShiftableClock()
        runtime = build_runtime(settings, clock=clock)
        receivers = Receivers(args.receivers)
        disables = DisableCounter()
        logging.getLogger("notarium.notify.webhooks").addHandler(disables)
        logging.getLogger("notarium.notify.webhooks").propagate = False
        try:
            migrate.upgrade(runtime.engine)
            where = "throwaway schema" if url else f"data dir {settings.data_dir}"
            print(f"\n== {backend} == ({where})", flush=True)
            account, _ = runtime.accounts.create_account("bench-webhooks", "business")
            endpoints = [
                runtime.webhooks.create(account.id, url=u, events=[EVENT], mode="live")[0].id
                for u in receivers.urls()
            ]
            timings = instrument(runtime)
            rss_start = rss_mib()
            run_fanout(runtime, receivers, account.id, endpoints, timings, args, checks)
            if args.gone_events:
                run_gone(runtime, receivers, account.id, endpoints, clock, disables, args, checks)
            print(
                f"  peak RSS of the notary process {peak_rss_mib():.0f} MiB "
                f"(RSS {rss_start:.0f} MiB before enqueueing, {rss_mib():.0f} MiB at the end; "
                "receivers run in a child process)",
                flush=True,
            )
        finally:
            logging.getLogger("notarium.notify.webhooks").removeHandler(disables)
            receivers.close()
            runtime.close()
    return [f"{backend}: {what}" for what in checks.failed]


def run_fanout(
    runtime: Runtime,
    receivers: Receivers,
    account_id: str,
    endpoints: list[str],
    timings: Timings,
    args: argparse.Namespace,
    checks: Checks,
) -> None:
    expected = args.events * len(endpoints)
    print(
        f"-- fan-out: {args.events} records x {len(endpoints)} endpoints = {expected} "
        f"deliveries, {args.workers} workers, claim batch {args.batch}",
        flush=True,
    )
    enqueue_s = create_records(runtime, account_id, args.events)
    print(
        f"  enqueue  {args.events} records.create in {enqueue_s:.2f} s: "
        f"{args.events / enqueue_s:.0f} records/s, {expected / enqueue_s:.0f} deliveries/s "
        f"written ({enqueue_s / args.events * 1000:.2f} ms per record)",
        flush=True,
    )
    timings.reset()
    attempted, drain_s, errors = drain(runtime, args.workers, args.batch)
    for error in errors:
        print(f"  worker raised {type(error).__name__}: {error}", flush=True)
    checks_time = time.perf_counter()

    with runtime.sessions() as session:
        states = dict(
            session.execute(
                select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)
            ).all()
        )
        duplicated = session.execute(
            select(func.count()).select_from(
                select(WebhookDelivery.event_id, WebhookDelivery.endpoint_id)
                .group_by(WebhookDelivery.event_id, WebhookDelivery.endpoint_id)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        multi_attempt = session.execute(
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.attempts != 1)
        ).scalar_one()
        latencies = sorted(
            session.scalars(
                select(WebhookAttempt.latency_ms).where(WebhookAttempt.status == 200)
            ).all()
        )
        attempt_rows = session.execute(
            select(func.count()).select_from(WebhookAttempt)
        ).scalar_one()
        event_ids = set(session.scalars(select(WebhookEvent.id)).all())
    stats = receivers.stats()
    delivered = states.get("delivered", 0)
    rate = delivered / drain_s if drain_s else 0.0
    print(
        f"  drain    {delivered} delivered in {drain_s:.2f} s: {rate:.0f} deliveries/s "
        f"({drain_s / max(delivered, 1) * 1000 * args.workers:.2f} ms of worker time each)",
        flush=True,
    )
    print(
        f"  attempt latency (webhook_attempts.latency_ms, {len(latencies)} attempts): "
        f"p50 {percentile(latencies, 0.50)} ms, p99 {percentile(latencies, 0.99)} ms, "
        f"max {latencies[-1] if latencies else 0} ms",
        flush=True,
    )
    busy = args.workers * drain_s
    print(f"  where the workers' time went ({args.workers} x {drain_s:.2f} s = {busy:.2f} s):")
    for name, seconds in sorted(timings.seconds.items(), key=lambda kv: -kv[1]):
        calls = timings.calls[name]
        print(
            f"    {name:44} {seconds:7.2f} s {seconds / busy:6.1%}  "
            f"{calls:6d} calls, {seconds / calls * 1000:7.2f} ms each",
            flush=True,
        )
    print(f"  enqueue / drain time: {enqueue_s / drain_s:.2f}", flush=True)

    checks.expect(not errors, "no worker raised")
    checks.expect(attempted == expected, f"{attempted} attempts made, {expected} expected")
    checks.expect(
        delivered == expected and set(states) == {"delivered"},
        f"all {expected} deliveries delivered, none left pending (states {states})",
    )
    checks.expect(duplicated == 0, "one delivery row per (event, endpoint)")
    checks.expect(
        multi_attempt == 0 and attempt_rows == expected,
        f"each delivered in exactly one attempt ({attempt_rows} attempt rows)",
    )
    checks.expect(len(event_ids) == args.events, f"{len(event_ids)} outbox events")
    per_receiver = [requests for requests, _ in stats]
    checks.expect(
        all(requests == args.events for requests in per_receiver),
        f"every receiver got {args.events} requests (min {min(per_receiver)}, "
        f"max {max(per_receiver)})",
    )
    checks.expect(
        all(ids == event_ids for _, ids in stats),
        "every receiver saw every event's webhook-id exactly once",
    )
    print(f"  (checks took {time.perf_counter() - checks_time:.2f} s)", flush=True)


def run_gone(
    runtime: Runtime,
    receivers: Receivers,
    account_id: str,
    endpoints: list[str],
    clock: ShiftableClock,
    disables: DisableCounter,
    args: argparse.Namespace,
    checks: Checks,
) -> None:
    gone = endpoints[0]
    live = len(endpoints) - 1
    n = args.gone_events
    print(
        f"-- receiver gone: receiver 0 stopped, {n} new records, endpoints switch off "
        f"after {args.disable_after} consecutive failures",
        flush=True,
    )
    receivers.stop(0)
    base = endpoint_state(runtime, gone)
    before = [count for count, _ in receivers.stats()]
    create_records(runtime, account_id, n)
    enqueued = endpoint_state(runtime, gone)
    describe("after enqueueing", enqueued)
    checks.expect(enqueued.rows == base.rows + n, f"one row per new event for it (+{n})")

    attempted, seconds, errors = drain(runtime, args.workers, args.batch)
    first = endpoint_state(runtime, gone)
    describe(f"drain 1 ({attempted} attempts, {seconds:.2f} s)", first)
    checks.expect(not errors, "no worker raised")
    checks.expect(
        attempted == n * len(endpoints) and first.rows == enqueued.rows,
        f"each new delivery tried once, rows unchanged ({first.rows})",
    )
    checks.expect(
        first.pending == n
        and first.next_in is not None
        and first.next_in[0] >= 4.5
        and first.next_in[1] <= 5.5,
        "its deliveries wait for the schedule's first step (5 s +- 10 %)",
    )
    attempted, _, _ = drain(runtime, args.workers, args.batch)
    again = endpoint_state(runtime, gone)
    describe(f"drain again at once ({attempted} attempts)", again)
    checks.expect(attempted == 0 and again.attempts == first.attempts, "nothing due, nothing sent")

    clock.advance(timedelta(seconds=6))
    attempted, seconds, errors = drain(runtime, args.workers, args.batch)
    second = endpoint_state(runtime, gone)
    describe(f"+6 s, drain 2 ({attempted} attempts, {seconds:.2f} s)", second)
    checks.expect(not errors, "no worker raised")
    checks.expect(
        attempted == n and second.rows == enqueued.rows and second.attempts == first.attempts + n,
        f"retried once each on schedule ({attempted} attempts), rows unchanged ({second.rows})",
    )
    checks.expect(
        not second.active and second.reason is not None,
        f"switched off after {args.disable_after} consecutive failures (reason: {second.reason!r})",
    )
    # `_record` switches the endpoint off whenever its failures reach the threshold, so
    # every failed attempt from that one on (claims already in flight) does it again.
    print(
        f"  'endpoint disabled' warnings logged: {len(disables.messages)} (one per failed "
        f"attempt from the {args.disable_after}th on, in-flight claims included)",
        flush=True,
    )

    clock.advance(timedelta(hours=1))
    attempted, _, _ = drain(runtime, args.workers, args.batch)
    parked = endpoint_state(runtime, gone)
    describe(f"+1 h, drain 3 ({attempted} attempts)", parked)
    checks.expect(
        attempted == 0 and parked.attempts == second.attempts and parked.pending == n,
        "a switched-off endpoint is not attempted; its undelivered rows are kept",
    )

    create_records(runtime, account_id, n)
    after = endpoint_state(runtime, gone)
    attempted, _, errors = drain(runtime, args.workers, args.batch)
    describe(f"{n} more records, drain 4 ({attempted} attempts)", after)
    checks.expect(
        after.rows == second.rows and attempted == n * live and not errors,
        f"no new deliveries for it; the other {live} endpoints got {attempted}",
    )
    now = [count for count, _ in receivers.stats()]
    got = [b - a for a, b in zip(before, now, strict=True)]
    checks.expect(
        got[0] == 0 and all(g == 2 * n for g in got[1:]),
        f"receivers got {got[1:]} requests (expected {2 * n} each), the stopped one 0",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000, help="records created (1000)")
    parser.add_argument("--receivers", type=int, default=10, help="endpoints/receivers (10)")
    parser.add_argument("--workers", type=int, default=4, help="draining threads (4)")
    parser.add_argument("--batch", type=int, default=32, help="deliver_due limit (32)")
    parser.add_argument("--timeout", type=float, default=5.0, help="webhook_timeout, s (5)")
    parser.add_argument(
        "--gone-events",
        type=int,
        default=20,
        help="records created while one receiver is down (20; 0 skips that phase)",
    )
    parser.add_argument(
        "--disable-after",
        type=int,
        default=30,
        help="webhook_disable_after (30): above --gone-events, at most twice it",
    )
    parser.add_argument(
        "--backend",
        action="append",
        choices=["sqlite", "postgresql"],
        help="repeatable; default sqlite (PostgreSQL via tests/backends.py when reachable)",
    )
    args = parser.parse_args()
    if not 1 <= args.receivers <= 20:
        parser.error("--receivers must be 1..20 (an account's endpoint limit)")
    if args.events < 1 or args.workers < 1 or args.batch < 1:
        parser.error("--events, --workers and --batch must be positive")
    if args.gone_events and not (args.gone_events < args.disable_after <= 2 * args.gone_events):
        parser.error("need --gone-events < --disable-after <= 2 x --gone-events")
    if args.gone_events and args.receivers < 2:
        parser.error("the receiver-gone phase needs at least 2 receivers")

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs", flush=True)
    failed: list[str] = []
    ran = 0
    for backend in args.backend or ["sqlite"]:
        if backend == "postgresql" and not postgres_available():
            print("\n== postgresql == skipped: not reachable (tests/backends.py)", flush=True)
            continue
        failed += run_backend(backend, args)
        ran += 1
    print()
    if failed:
        print("FAILED checks:\n  " + "\n  ".join(failed))
    else:
        print(f"all checks held on {ran} backend(s)" if ran else "no backend ran")
    return 0 if ran and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
