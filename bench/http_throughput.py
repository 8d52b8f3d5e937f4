"""Compare the HTTP rate of creating timestamps with that of a trivial authenticated GET.

Run with ``.venv/bin/python bench/http_throughput.py`` (needs ``wrk``: ``apt-get install
wrk``). For each backend (SQLite in a temporary data directory; PostgreSQL in a throwaway
schema when it is reachable) it starts ``notarium serve`` on a free loopback port with rate
limits off, creates an account, and drives two ``wrk`` runs with identical threads,
connections and duration: ``GET /api/v1/me`` (one key lookup) and ``POST
/api/v1/timestamps`` with a fresh random SHA-256 per request. Both runs share the machine
with the server, so the POST/GET ratio says how much a create costs beyond the fixed
per-request overhead (HTTP, auth, JSON) rather than how fast the machine is. Creating a
record (an RFC 3161 token, an insert, a commit) must reach at least 40% of the GET rate.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TARGET_RATIO = 0.40
HOST = "127.0.0.1"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RESULT_MARKER = "NOTARIUM_BENCH_RESULT "
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

# Shared by both runs so their only difference is the request itself. `response()` makes
# wrk hand every reply to Lua, which is how non-2xx replies are counted exactly (wrk's own
# `errors.status` only counts >= 400); its cost is the same for both runs.
LUA_COMMON = r"""
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    local key = tostring(status)
    codes[key] = (codes[key] or 0) + 1
  end
end

local function encode_codes(t)
  local parts = {}
  for k, v in pairs(t) do
    table.insert(parts, string.format('"%s": %d', k, v))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
  local non2xx_total = 0
  local merged = {}
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
    local c = thread:get("codes") or {}
    for k, v in pairs(c) do
      merged[k] = (merged[k] or 0) + v
    end
  end
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, ' ..
    '"non2xx": %d, "codes": %s, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "timeouts": %d}\n',
    "__MARKER__", summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, non2xx_total, encode_codes(merged),
    e.connect, e.read, e.write, e.timeout))
end
"""

LUA_GET = r"""
function init(args)
  non2xx = 0
  codes = {}
  wrk.method = "GET"
  wrk.path = "/api/v1/me"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("NOTARIUM_BENCH_KEY")
end
"""

# A hash is a run nonce, the thread id and a per-thread counter, padded with random hex:
# unique by construction across threads and runs (a repeat would be a 409, not a create),
# yet still unpredictable in its tail like a real digest.
LUA_POST = r"""
local hex = "0123456789abcdef"

function init(args)
  non2xx = 0
  codes = {}
  seq = 0
  nonce = os.getenv("NOTARIUM_BENCH_NONCE")
  auth = "Bearer " .. os.getenv("NOTARIUM_BENCH_KEY")
  math.randomseed(id * 1000003 + os.time())
end

local function random_hex(n)
  local out = {}
  for i = 1, n do
    local r = math.random(1, 16)
    out[i] = hex:sub(r, r)
  end
  return table.concat(out)
end

function request()
  seq = seq + 1
  local prefix = string.format("%s%04x%012x", nonce, id, seq)
  local digest = prefix .. random_hex(64 - #prefix)
  local body = string.format(
    '{"sha256_hash": "%s", "filename": "bench-%d-%d.pdf", ' ..
    '"file_size_bytes": %d, "file_type": "application/pdf"}',
    digest, id, seq, 1024 + seq)
  return wrk.format("POST", "/api/v1/timestamps", {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/json",
  }, body)
end
"""


@dataclass(frozen=True)
class RunResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non2xx: int
    codes: dict[str, int]
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class BackendResult:
    backend: str
    get: RunResult
    post: RunResult

    @property
    def ratio(self) -> float:
        return self.post.rate / self.get.rate if self.get.rate else 0.0

    @property
    def clean(self) -> bool:
        return all(r.non2xx == 0 and r.socket_errors == 0 for r in (self.get, self.post))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def notarium_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from notarium.cli.main import main; main()", *args]


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        notarium_command(*args), env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"notarium {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text(errors='replace')}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT:.0f} s")


@contextlib.contextmanager
def server(env: dict[str, str], workdir: Path) -> Iterator[int]:
    port = free_port()
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            notarium_command("serve", "--host", HOST, "--port", str(port)),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Its own session, so a Ctrl-C at the terminal reaches only this script, which
            # then stops the server in order.
            start_new_session=True,
        )
    try:
        wait_ready(port, process, log)
        yield port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def run_wrk(
    wrk: str,
    script: str,
    port: int,
    env: dict[str, str],
    args: argparse.Namespace,
    duration: float,
    workdir: Path,
) -> RunResult:
    path = workdir / f"bench-{uuid.uuid4().hex[:8]}.lua"
    path.write_text(script + LUA_COMMON.replace("__MARKER__", RESULT_MARKER))
    command = [
        wrk,
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={max(1, round(duration))}s",
        "--timeout=10s",
        f"--script={path}",
        f"http://{HOST}:{port}",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            data = json.loads(line[len(RESULT_MARKER) :])
            break
    else:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}{done.stderr}")
    return RunResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1e3,
        p90_ms=data["p90_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3,
        non2xx=data["non2xx"],
        codes=data["codes"],
        socket_errors=sum(
            data[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
        ),
    )


def measure(
    backend: str, env: dict[str, str], workdir: Path, wrk: str, args: argparse.Namespace
) -> BackendResult:
    with server(env, workdir) as port:
        # A business plan, because its monthly quota (100,000) is far above what one run
        # creates; a pro plan's 5,000 would turn the tail of the POST run into 429s.
        created = json.loads(
            run_cli(env, "accounts", "create", f"bench-{backend}", "--plan", "business", "--json")
        )
        wrk_env = {
            **os.environ,
            "NOTARIUM_BENCH_KEY": created["api_key"],
            "NOTARIUM_BENCH_NONCE": uuid.uuid4().hex[:8],
        }
        results: dict[str, RunResult] = {}
        for name, script in (("get", LUA_GET), ("post", LUA_POST)):
            if args.warmup > 0:
                # Warm connections, pools and caches, but do not count this run.
                run_wrk(wrk, script, port, wrk_env, args, args.warmup, workdir)
            wrk_env["NOTARIUM_BENCH_NONCE"] = uuid.uuid4().hex[:8]
            results[name] = run_wrk(wrk, script, port, wrk_env, args, args.duration, workdir)
            print(f"  {name.upper():4} {results[name].rate:9.1f} req/s", flush=True)
    return BackendResult(backend, results["get"], results["post"])


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def postgres_reachable(url: str) -> str | None:
    """None when the server answers; otherwise why not."""
    try:
        import psycopg

        with psycopg.connect(libpq(url), connect_timeout=2):
            return None
    except Exception as error:
        return f"{type(error).__name__}: {error}".strip()


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(libpq(url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARIUM_")}
    env.update(
        NOTARIUM_DATA_DIR=str(data_dir),
        NOTARIUM_RATE_LIMITS_ENABLED="false",
        # Loopback only, and the request path alone is measured: no anchoring loops.
        NOTARIUM_OTS_CALENDARS="",
        NOTARIUM_EMBEDDED_WORKERS="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_backend(backend: str, wrk: str, args: argparse.Namespace) -> BackendResult | None:
    with tempfile.TemporaryDirectory(prefix=f"notarium-bench-{backend}-") as tmp:
        workdir = Path(tmp)
        env = base_env(workdir / "data")
        if backend == "sqlite":
            print(f"[{backend}] data dir {workdir / 'data'}", flush=True)
            return measure(backend, env, workdir, wrk, args)
        why = postgres_reachable(args.pg_url)
        if why is not None:
            print(f"[{backend}] skipped: not reachable at {args.pg_url} ({why})", flush=True)
            return None
        with postgres_schema(args.pg_url) as url:
            env["NOTARIUM_DATABASE_URL"] = url
            print(f"[{backend}] throwaway schema via {url.split('?')[1]}", flush=True)
            run_cli(env, "db", "upgrade")
            return measure(backend, env, workdir, wrk, args)


def print_table(result: BackendResult) -> None:
    g, p = result.get, result.post
    print()
    print(f"== {result.backend} ==")
    print(f"{'':25}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'non-2xx':>9}")
    for label, r in (("GET  /api/v1/me", g), ("POST /api/v1/timestamps", p)):
        print(
            f"{label:25}{r.rate:10.1f}{r.p50_ms:10.2f}{r.p99_ms:10.2f}{r.requests:10d}{r.non2xx:9d}"
        )
        if r.non2xx:
            print(f"{'':25}non-2xx by status: {r.codes}")
        if r.socket_errors:
            print(f"{'':25}socket errors/timeouts: {r.socket_errors}")
    verdict = "MET" if result.ratio >= TARGET_RATIO else "NOT MET"
    print(f"POST/GET ratio: {result.ratio:.3f} (target >= {TARGET_RATIO:.2f}) {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="open connections")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument(
        "--backend",
        action="append",
        choices=["sqlite", "postgresql"],
        help="repeatable; default: both (PostgreSQL only when reachable)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("NOTARIUM_BENCH_PG_URL", DEFAULT_PG_URL),
        help="SQLAlchemy URL of a PostgreSQL database to create a throwaway schema in",
    )
    args = parser.parse_args()
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")

    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            "error: wrk is not installed; it is the load generator this benchmark drives.\n"
            "Install it with `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`.",
            file=sys.stderr,
        )
        return 2

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, wrk {args.threads} threads, "
        f"{args.connections} connections, {args.duration:g} s per run "
        f"(+{args.warmup:g} s warm-up)",
        flush=True,
    )
    results: list[BackendResult] = []
    for backend in args.backend or ["sqlite", "postgresql"]:
        result = run_backend(backend, wrk, args)
        if result is not None:
            results.append(result)
    for result in results:
        print_table(result)
    if not results:
        return 1
    ok = all(r.clean and r.ratio >= TARGET_RATIO for r in results)
    print()
    print("all targets MET" if ok else "target NOT MET or requests failed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
