"""Compare a whole web capture certification with a bare Playwright capture of one page.

Run with ``.venv/bin/python bench/web_capture.py [--runs 20]``. It serves a realistic
article page on 127.0.0.1 (a stylesheet, a script, two JPEG images, a favicon, three
and a half screens long) and, in the same run, alternating one after the other:

(a) a bare Playwright script: the system Chromium with notarium's launch flags, one
    warm browser; per run a new context recording a HAR with embedded bodies, ``goto``,
    the load event, ``networkidle``, a full-page screenshot, and closing the context so
    the HAR is written;
(b) ``POST /api/v1/certificates`` against a real ``notarium serve`` (egress allowlist
    127.0.0.1, a warm pool of its default two browser slots, one unmeasured warm-up
    request first): capture through the egress proxy, consent check, auto-scroll,
    screenshot, DOM, HAR, WARC and signed WACZ, the signed and time-stamped manifest,
    the record with its own RFC 3161 token, all in one transaction.

It prints p50/p95 of each, the ratio of the p50s (target <= 1.5), the time to fetch the
sealed certificate PDF afterwards (built on first download), and the peak memory of the
server's browsers per slot: the sum of the resident sets (and of the proportional sets,
which count shared pages once) of every Chromium process under the server, sampled from
/proc during the run, divided by the slots. Then, in-process (``--profile-runs``), where
a certification's time goes: the capture and its steps, the evidence package, the
record, and the certificate PDF.

Exit status 0 when the ratio meets the target, 1 when it does not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
from PIL import Image, ImageDraw
from playwright.async_api import async_playwright

from notarium.products.web_capture.browser.browser_pool import browser_args
from notarium.products.web_capture.browser.options import DEFAULT_CHROMIUM

TARGET_RATIO = 1.5
HOST = "127.0.0.1"
VIEWPORT = {"width": 1280, "height": 800}
SLOTS = 2  # the server's default
NOTARIUM = str(Path(sys.executable).with_name("notarium"))
T = TypeVar("T")


# -- the page ------------------------------------------------------------------------


def jpeg(width: int, height: int, seed: int) -> bytes:
    """A photo-like JPEG: a gradient with shapes and noise, so it compresses like one."""
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    tint = Image.new("RGB", (width, height), (40 + seed * 50 % 200, 90, 160 - seed * 30 % 120))
    image = Image.blend(base, tint, 0.5)
    draw = ImageDraw.Draw(image)
    for index in range(12):
        x = (index * 97 + seed * 31) % width
        y = (index * 53 + seed * 17) % height
        draw.ellipse((x, y, x + width // 6, y + height // 5), fill=(200, 120 + index * 9, 60))
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82)
    return out.getvalue()


# About three and a half screens of 1280x800: long enough that the capture scrolls.
PARAGRAPHS = 7
PARAGRAPH = (
    "The council met on Tuesday evening to consider the revised plans for the harbour "
    "front, which now include a wider promenade, a cycle lane separated from the road and "
    "a smaller car park than the first proposal. Residents who spoke at the meeting "
    "welcomed the promenade but questioned whether the reduced parking would push "
    "visitors into the narrow streets behind the market square. The planning officer said "
    "a survey last summer had counted fewer than two hundred cars on the busiest weekend, "
    "and that the new layout would still hold them. "
)

STYLE = (
    "body{font-family:Georgia,serif;margin:0;color:#222;background:#fafafa}"
    "header{background:#113355;color:#fff;padding:16px 48px;font-family:sans-serif}"
    "nav a{color:#cde;margin-right:18px;text-decoration:none}"
    "main{max-width:820px;margin:0 auto;padding:24px 48px;background:#fff}"
    "h1{font-size:40px;line-height:1.15}p{font-size:18px;line-height:1.6}"
    "figure{margin:28px 0}figure img{width:100%;height:auto;display:block}"
    "figcaption{font:14px sans-serif;color:#666;margin-top:6px}"
    ".meta{font:14px sans-serif;color:#777}.badge{background:#eef;padding:2px 6px}"
    "footer{padding:32px 48px;font:13px sans-serif;color:#999}"
)

SCRIPT = (
    "document.addEventListener('DOMContentLoaded', () => {"
    " const words = document.querySelector('main').innerText.split(/\\s+/).length;"
    " const badge = document.createElement('span'); badge.className = 'badge';"
    " badge.textContent = Math.ceil(words / 230) + ' min read';"
    " document.querySelector('.meta').appendChild(badge);"
    " document.querySelectorAll('figure img').forEach((img) => img.decoding = 'async');"
    "});"
)


def article() -> bytes:
    figure = (
        "<figure><img src='/img/figure.jpg' width='800' height='450' alt='the north pier'>"
        "<figcaption>The harbour front from the north pier.</figcaption></figure>"
    )
    body = []
    for index in range(PARAGRAPHS):
        body.append(f"<p>{PARAGRAPH}</p>")
        if index == 2:
            body.append(figure)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Harbour front plans revised after consultation</title>"
        "<link rel='stylesheet' href='/static/site.css'>"
        "<script src='/static/app.js' defer></script>"
        "<link rel='icon' href='/favicon.ico'></head><body>"
        "<header><strong>The Harbour Gazette</strong> <nav><a href='#'>News</a>"
        "<a href='#'>Sport</a><a href='#'>Opinion</a></nav></header><main>"
        "<h1>Harbour front plans revised after consultation</h1>"
        "<p class='meta'>By a staff reporter, 12 April </p>"
        "<figure><img src='/img/hero.jpg' width='1200' height='480' alt='harbour'></figure>"
        + "".join(body)
        + "</main><footer>The Harbour Gazette</footer></body></html>"
    ).encode()


class Site:
    """The article and its subresources on 127.0.0.1, no caching."""

    def __init__(self) -> None:
        favicon = io.BytesIO()
        Image.new("RGB", (32, 32), (17, 51, 85)).save(favicon, format="PNG")
        self.files: dict[str, tuple[str, bytes]] = {
            "/article": ("text/html; charset=utf-8", article()),
            "/static/site.css": ("text/css", STYLE.encode()),
            "/static/app.js": ("text/javascript", SCRIPT.encode()),
            "/img/hero.jpg": ("image/jpeg", jpeg(1200, 480, 0)),
            "/img/figure.jpg": ("image/jpeg", jpeg(800, 450, 1)),
            "/favicon.ico": ("image/png", favicon.getvalue()),
        }
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                found = files.get(self.path)
                status, (kind, body) = (200, found) if found else (404, ("text/plain", b"no"))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}/article"

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- memory --------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            # The command name is in parentheses and may hold spaces: split after it.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children[ppid].append(int(entry.name))
    return children


def _descendants(root: int) -> list[int]:
    children = _children()
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
PSS_EVERY = 8


def _statm_rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError, IndexError, ValueError):
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KIB
    return 0


def _kib(path: str, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    return 0


@dataclass
class MemorySampler:
    """Peak summed RSS and PSS of the Chromium processes under ``root``."""

    root: int
    interval: float = 0.2
    peak_rss_kib: int = 0
    peak_pss_kib: int = 0
    peak_processes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self, *, pss: bool) -> None:
        pids = []
        for pid in _descendants(self.root):
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() in ("chromium", "chrome"):
                    pids.append(pid)
        rss = sum(_statm_rss_kib(pid) for pid in pids)
        if rss > self.peak_rss_kib:
            self.peak_rss_kib, self.peak_processes = rss, len(pids)
        if pss:
            total = sum(_kib(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in pids)
            self.peak_pss_kib = max(self.peak_pss_kib, total)

    def _loop(self) -> None:
        count = 0
        while not self._stop.wait(self.interval):
            # smaps_rollup walks each process's page tables under its memory lock, which
            # slows the browsers being measured; statm only reads counters.
            self.sample(pss=count % PSS_EVERY == 0)
            count += 1

    def __enter__(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


# -- (b) the server ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def notarium_server(data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, str]]:
    port = free_port()
    url = f"http://{HOST}:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARIUM_")}
    env.update(
        NOTARIUM_DATA_DIR=str(data_dir),
        NOTARIUM_BASE_URL=url,
        NOTARIUM_EGRESS_ALLOWLIST=HOST,
        NOTARIUM_OTS_CALENDARS="",
        # 30 captures a minute per key is the document's limit; a run makes more.
        NOTARIUM_RATE_LIMITS_ENABLED="false",
        NOTARIUM_CAPTURE_SLOTS=str(SLOTS),
    )
    log = data_dir.parent / "server.log"
    data_dir.mkdir(parents=True)
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [NOTARIUM, "serve", "--host", HOST, "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"notarium serve exited:\n{log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit(f"notarium serve did not start:\n{log.read_text()}")
        match = re.search(r"API key:\s+(ntk_live_\S+)", log.read_text())
        if match is None:
            raise SystemExit(f"no API key in the server's first-run output:\n{log.read_text()}")
        yield process, url, match.group(1)
    except BaseException:
        print("".join(log.read_text().splitlines(keepends=True)[-40:]), file=sys.stderr)
        raise
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def certify(client: httpx.Client, page: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = client.post("/api/v1/certificates", json={"url": page})
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise SystemExit(f"POST /api/v1/certificates: {response.status_code} {response.text}")
    return elapsed, dict(response.json())


def download(client: httpx.Client, created: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = client.get(created["links"]["certificate"], follow_redirects=True)
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or not response.content.startswith(b"%PDF"):
        raise SystemExit(f"certificate download: {response.status_code}")
    return elapsed


# -- (a) the bare script -------------------------------------------------------------


class BareCapture:
    """The smallest honest Playwright capture: HAR with bodies plus a full-page
    screenshot, on one warm browser."""

    def __init__(self, page: str, work: Path) -> None:
        self.page = page
        self.work = work
        self.count = 0

    async def __aenter__(self) -> BareCapture:
        self._playwright = await async_playwright().start()
        self.browser = await self._playwright.chromium.launch(
            executable_path=str(DEFAULT_CHROMIUM), headless=True, args=browser_args()
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.browser.close()
        await self._playwright.stop()

    async def run(self) -> float:
        self.count += 1
        har = self.work / f"bare-{self.count}.har"
        started = time.perf_counter()
        context = await self.browser.new_context(
            viewport=VIEWPORT,
            service_workers="block",
            record_har_path=str(har),
            record_har_content="embed",
        )
        page = await context.new_page()
        await page.goto(self.page, wait_until="load")
        await page.wait_for_load_state("networkidle")
        screenshot = await page.screenshot(full_page=True, type="png")
        await context.close()
        size = har.stat().st_size
        elapsed = time.perf_counter() - started
        if size < 100_000 or not screenshot.startswith(b"\x89PNG"):
            raise SystemExit(f"the bare capture recorded too little ({size} bytes of HAR)")
        har.unlink()
        return elapsed


# -- the in-process profile ----------------------------------------------------------


def timed(sink: list[float], function: Callable[..., T]) -> Callable[..., T]:
    def wrapper(*args: Any, **kwargs: Any) -> T:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            sink.append(time.perf_counter() - started)

    return wrapper


def timed_async(
    sink: list[float], function: Callable[..., Awaitable[T]]
) -> Callable[..., Awaitable[T]]:
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        started = time.perf_counter()
        try:
            return await function(*args, **kwargs)
        finally:
            sink.append(time.perf_counter() - started)

    return wrapper


async def profile(page: str, work: Path, runs: int) -> None:
    """Where a certification spends its time, measured on the service's own methods."""
    from notarium.adapters.store import migrate
    from notarium.app.runtime import build_runtime
    from notarium.app.settings import Settings
    from notarium.ledger.accounts.plans import PLANS
    from notarium.ledger.records.values import Owner

    settings = Settings(
        data_dir=work / "profile",
        base_url="http://127.0.0.1:9",
        egress_allowlist=[HOST],
        ots_calendars=[],
        embedded_workers=False,
    )
    runtime = build_runtime(settings)
    migrate.upgrade(runtime.engine)
    account, _ = runtime.accounts.create_account("bench", "business")
    owner = Owner(account.id, "live")
    service = runtime.webcaptures
    engine = service.engine()
    await engine.start()
    phases: dict[str, list[float]] = defaultdict(list)
    steps: dict[str, list[float]] = defaultdict(list)
    capture = timed_async(phases["capture"], engine.capture)

    async def capture_and_steps(url: str) -> Any:
        result = await capture(url)
        for timing in result.timings:
            steps[timing.step].append(timing.milliseconds / 1000)
        return result

    engine.capture = capture_and_steps
    packager = service.packager
    packager.package = timed(phases["evidence"], packager.package)
    records = service.records
    records.create = timed(phases["record"], records.create)
    try:
        await service.certify(owner, PLANS["business"], "bench", page)  # warm-up
        for phase in (*phases.values(), *steps.values()):
            phase.clear()
        for _ in range(runs):
            await asyncio.sleep(0.5)
            started = time.perf_counter()
            view = await service.certify(owner, PLANS["business"], "bench", page)
            phases["total (POST)"].append(time.perf_counter() - started)
            started = time.perf_counter()
            await asyncio.to_thread(runtime.capture_downloads.certificate, owner, view)
            phases["certificate PDF (download)"].append(time.perf_counter() - started)
    finally:
        await service.close()
        runtime.close()
    rest = [
        total - sum(phases[name][i] for name in ("capture", "evidence", "record"))
        for i, total in enumerate(phases["total (POST)"])
    ]
    phases["admission, allowance, storing"] = rest
    print(f"\nIn-process profile, {runs} certifications (median ms):")
    for name in (
        "capture",
        "evidence",
        "record",
        "admission, allowance, storing",
        "total (POST)",
        "certificate PDF (download)",
    ):
        print(f"  {name:<32} {statistics.median(phases[name]) * 1000:8.0f}")
    print("  the capture's own steps:")
    for name, seconds in steps.items():
        if not seconds:
            continue  # A step only the warm-up took (opening a context cold).
        print(f"    {name:<30} {statistics.median(seconds) * 1000:8.0f}")


# -- main ----------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    # Rounded first: 0.95 * 20 is 19.000000000000004 in floating point.
    rank = max(1, math.ceil(round(fraction * len(ordered), 9)))
    return ordered[rank - 1]


def describe(name: str, values: list[float]) -> str:
    return (
        f"  {name:<44} p50 {percentile(values, 0.5) * 1000:6.0f} ms"
        f"   p95 {percentile(values, 0.95) * 1000:6.0f} ms   (n={len(values)})"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="measured runs of each side")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between runs")
    parser.add_argument("--profile-runs", type=int, default=5, help="0 skips the profile")
    parser.add_argument(
        "--memory-interval", type=float, default=0.25, help="seconds between memory samples"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="notarium-bench-") as tmp, Site() as site:
        work = Path(tmp)
        bare_times: list[float] = []
        post_times: list[float] = []
        pdf_times: list[float] = []
        with notarium_server(work / "data") as (server, url, key):
            headers = {"Authorization": f"Bearer {key}"}
            async with BareCapture(site.url, work) as bare:
                with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
                    # Warm-up: the server launches its pool on the first capture.
                    certify(client, site.url)
                    await bare.run()
                    time.sleep(args.pause)
                    with MemorySampler(server.pid, args.memory_interval) as memory:
                        for _ in range(args.runs):
                            bare_times.append(await bare.run())
                            time.sleep(args.pause)
                            elapsed, created = certify(client, site.url)
                            post_times.append(elapsed)
                            time.sleep(args.pause)
                            pdf_times.append(download(client, created))
                            time.sleep(args.pause)
            slots = SLOTS
            print(
                f"Page: {site.url} ({len(site.files)} files, "
                f"{sum(len(b) for _, b in site.files.values()) // 1024} KiB)"
            )
            print(describe("(a) bare Playwright: HAR + full-page screenshot", bare_times))
            print(describe("(b) POST /api/v1/certificates", post_times))
            print(describe("    then GET .../download (PDF built, sealed)", pdf_times))
            ratio = percentile(post_times, 0.5) / percentile(bare_times, 0.5)
            with_pdf = [p + d for p, d in zip(post_times, pdf_times, strict=True)]
            ratio_pdf = percentile(with_pdf, 0.5) / percentile(bare_times, 0.5)
            print(f"  ratio of p50s (b)/(a): {ratio:.2f}  (target <= {TARGET_RATIO})")
            print(f"  ratio of p50s with the first PDF download: {ratio_pdf:.2f}")
            print(
                f"  browser memory per slot (peak, {slots} slots, "
                f"{memory.peak_processes} Chromium processes): "
                f"RSS {memory.peak_rss_kib / slots / 1024:.0f} MiB, "
                f"PSS {memory.peak_pss_kib / slots / 1024:.0f} MiB"
            )
        if args.profile_runs > 0:
            await profile(site.url, work, args.profile_runs)
    met = ratio <= TARGET_RATIO
    print(f"\n{'PASS' if met else 'FAIL'}: ratio {ratio:.2f} {'<=' if met else '>'} {TARGET_RATIO}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
