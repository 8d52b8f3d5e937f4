"""A warm pool of system Chromium browsers, one capture per browser at a time.

Each slot owns one browser process (its own fresh, empty profile directory, which
Playwright creates per launch), so a crash or a leak stays within one slot. Captures
take a slot in arrival order and give up with :class:`ServiceBusy` when none frees up
within the queue timeout. A browser that died, or has served ``recycle_after``
captures, is replaced before its slot is handed out again.

Every browser is launched with a browser-wide proxy that refuses everything: each
capture's context brings its own vetting proxy (see ``egress_proxy``), so the only
traffic that ever reaches the browser-wide one is Chromium's own background chatter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

from playwright.async_api import Browser, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from notarium.products.web_capture.browser.egress_proxy import EgressProxy
from notarium.products.web_capture.browser.errors import CaptureFailed, ServiceBusy
from notarium.products.web_capture.browser.options import PoolOptions

log = logging.getLogger(__name__)

# Playwright passes its own --disable-features list, and Chromium keeps only the last one
# given, so this list repeats the Playwright defaults that matter here besides adding the
# network paths that could leave without the proxy.
_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "LensOverlay",
    "Translate",
    "DnsOverHttps",
    "AsyncDns",
    "NetworkPrediction",
    "InterestFeedContentSuggestions",
    "CertificateTransparencyComponentUpdater",
    "AutofillServerCommunication",
)

BROWSER_ARGS = (
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--no-pings",
    "--dns-prefetch-disable",
    # WebRTC would otherwise send UDP straight past the proxy, and reveal local addresses.
    # Chromium 156 honours the second spelling; the first is kept for builds reading it.
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-features=" + ",".join(_DISABLED_FEATURES),
)


def browser_args(extra: tuple[str, ...] = ()) -> list[str]:
    args = list(BROWSER_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start its sandbox as root.
    return [*args, *extra]


@dataclass
class Slot:
    index: int
    browser: Browser | None = None
    uses: int = 0

    @property
    def live_browser(self) -> Browser:
        if self.browser is None:
            raise CaptureFailed("the browser of this slot is not running")
        return self.browser


class BrowserPool:
    """``await pool.start()`` launches every browser; ``async with pool.slot() as slot``
    lends one; ``await pool.close()`` ends them all."""

    def __init__(self, options: PoolOptions | None = None) -> None:
        self.options = options or PoolOptions()
        self._playwright: Playwright | None = None
        self._sink: EgressProxy | None = None
        self._idle: asyncio.Queue[Slot] = asyncio.Queue()
        self._slots = [Slot(index) for index in range(self.options.slots)]
        self._start_lock = asyncio.Lock()
        self._closed = False

    @property
    def slots(self) -> int:
        return self.options.slots

    @property
    def all_slots(self) -> tuple[Slot, ...]:
        return tuple(self._slots)

    @property
    def idle(self) -> int:
        """Slots free right now."""
        return self._idle.qsize()

    async def start(self) -> BrowserPool:
        async with self._start_lock:
            if self._closed:
                raise CaptureFailed("the browser pool is closed")
            if self._playwright is not None:
                return self
            self._sink = await EgressProxy(None).start()
            self._playwright = await async_playwright().start()
            try:
                await asyncio.gather(*(self._launch(slot) for slot in self._slots))
            except BaseException:
                await self._shutdown()
                raise
            for slot in self._slots:
                self._idle.put_nowait(slot)
        return self

    async def close(self) -> None:
        async with self._start_lock:
            self._closed = True
            await self._shutdown()

    async def acquire(self) -> Slot:
        """A slot with a live browser, waiting up to the queue timeout for one."""
        await self.start()
        try:
            slot = await asyncio.wait_for(self._idle.get(), self.options.queue_timeout)
        except TimeoutError:
            raise ServiceBusy(
                f"all {self.slots} browser slots stayed busy for "
                f"{self.options.queue_timeout:g} s; retry in about 30 seconds"
            ) from None
        try:
            await self._ready(slot)
        except BaseException:
            self._idle.put_nowait(slot)
            raise
        slot.uses += 1
        return slot

    def release(self, slot: Slot) -> None:
        if not self._closed:
            self._idle.put_nowait(slot)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        taken = await self.acquire()
        try:
            yield taken
        finally:
            self.release(taken)

    async def _ready(self, slot: Slot) -> None:
        browser = slot.browser
        if browser is not None and browser.is_connected():
            if slot.uses < self.options.recycle_after:
                return
            log.info("replacing the browser of slot %d after %d captures", slot.index, slot.uses)
        elif browser is not None:
            log.warning("the browser of slot %d is gone; launching another", slot.index)
        await self._retire(slot)
        await self._launch(slot)

    async def _launch(self, slot: Slot) -> None:
        assert self._playwright is not None and self._sink is not None
        try:
            slot.browser = await self._playwright.chromium.launch(
                executable_path=str(self.options.executable_path),
                headless=True,
                args=browser_args(self.options.extra_args),
                proxy={"server": self._sink.server, "bypass": "<-loopback>"},
                timeout=self.options.launch_timeout * 1000,
                handle_sigint=False,
                handle_sigterm=False,
                handle_sighup=False,
            )
        except PlaywrightError as exc:
            raise CaptureFailed(
                f"Chromium at {self.options.executable_path} did not start: {exc.message}"
            ) from exc
        slot.uses = 0

    async def _retire(self, slot: Slot) -> None:
        browser, slot.browser = slot.browser, None
        if browser is not None:
            with contextlib.suppress(PlaywrightError):
                await browser.close()

    async def _shutdown(self) -> None:
        for slot in self._slots:
            await self._retire(slot)
        while not self._idle.empty():
            self._idle.get_nowait()
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            await playwright.stop()
        sink, self._sink = self._sink, None
        if sink is not None:
            await sink.close()
