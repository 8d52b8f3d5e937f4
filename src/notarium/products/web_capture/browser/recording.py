"""One browser context recording one capture, from navigation to the finished result.

Budget: a capture has ``CaptureOptions.timeout`` seconds in all. Navigation and waiting
for the page may use all but a reserve kept for the steps that make the evidence
(screenshot, DOM, HAR), so a page that never stops loading is still captured as it
stands when time runs short (``page_loaded=False``). A page whose server never
answers at all fails with :class:`CaptureFailed`. Waits for the network to go quiet
and for lazy content are capped well inside the budget; nothing waits forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, CDPSession, Page, Request, Response
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from notarium.adapters.egress.policy import EgressPolicy
from notarium.formats.evidence.capture_result import CaptureResult, Timing, TlsDetails
from notarium.products.web_capture.browser.challenges import (
    FACTS_SCRIPT,
    PageFacts,
    detect_challenge,
)
from notarium.products.web_capture.browser.consent import dismiss_banners
from notarium.products.web_capture.browser.egress_proxy import EgressProxy
from notarium.products.web_capture.browser.errors import CaptureFailed, InvalidCaptureUrl
from notarium.products.web_capture.browser.har import origin_of, read_har
from notarium.products.web_capture.browser.network_watch import NetworkWatch
from notarium.products.web_capture.browser.options import CaptureOptions, default_user_agent
from notarium.products.web_capture.browser.scrolling import scroll_through, scroll_to_top

log = logging.getLogger(__name__)

NETWORK_IDLE_CAP = 10.0  # seconds; busy pages (analytics beacons, polling) never go quiet
AFTER_SCROLL_IDLE_CAP = 5.0
CONSENT_CAP = 6.0
SCROLL_CAP = 12.0


class Budget:
    """Seconds left until a deadline, keeping ``reserve`` for making the evidence."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.deadline = self.started + seconds
        self.reserve = max(2.0, min(10.0, seconds * 0.2))

    def left(self, *, keep_reserve: bool = True) -> float:
        reserve = self.reserve if keep_reserve else 0.0
        return max(0.0, self.deadline - reserve - time.monotonic())

    def ms(self, cap: float | None = None, *, keep_reserve: bool = True) -> float:
        seconds = self.left(keep_reserve=keep_reserve)
        if cap is not None:
            seconds = min(seconds, cap)
        return max(1.0, seconds * 1000)


class Recording:
    def __init__(
        self,
        browser: Browser,
        policy: EgressPolicy,
        options: CaptureOptions,
    ) -> None:
        self.browser = browser
        self.options = options
        self.requested_url = ""
        self.proxy = EgressProxy(policy)
        self.started = datetime.now(UTC)
        self.timings: list[Timing] = []
        self.user_agent = options.user_agent or default_user_agent(browser.version)
        self.page_loaded = False
        self.opened = False
        self.closed = False
        self._har_dir = Path(tempfile.mkdtemp(prefix="notarium-capture-"))
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._cdp: CDPSession | None = None
        self._watch: NetworkWatch | None = None
        self._main_frame_id: str | None = None
        self._main_response: Response | None = None
        self._main_failures: list[Request] = []
        self._failed: list[Request] = []
        self._websockets: list[str] = []
        self._security: dict[str, dict[str, Any]] = {}

    @property
    def page(self) -> Page:
        if self._page is None:
            raise CaptureFailed("the capture's page is not open")
        return self._page

    @property
    def cdp(self) -> CDPSession:
        if self._cdp is None:
            raise CaptureFailed("the capture's page is not open")
        return self._cdp

    # -- opening and navigating ---------------------------------------------------------

    def begin(self, url: str) -> None:
        """Starts the capture of ``url`` (on a context opened now or earlier, while idle)."""
        self.requested_url = url
        self.started = datetime.now(UTC)
        self.timings = []

    @property
    def usable(self) -> bool:
        """Opened, unused, and its browser still there: fit to begin a capture on."""
        return (
            self.opened
            and not self.closed
            and not self.requested_url
            and self.browser.is_connected()
            and self._page is not None
            and not self._page.is_closed()
        )

    async def open(self) -> None:
        if self.opened:
            return
        with self._timed("open"):
            await self._open()
        self.opened = True

    async def _open(self) -> None:
        await self.proxy.start()
        width, height = self.options.viewport
        self._context = await self.browser.new_context(
            proxy={"server": self.proxy.server, "bypass": "<-loopback>"},
            service_workers="block",
            viewport={"width": width, "height": height},
            screen={"width": width, "height": height},
            user_agent=self.user_agent,
            locale=self.options.locale,
            accept_downloads=False,
            record_har_path=str(self._har_dir / "capture.har"),
            record_har_content="embed",
            record_har_mode="full",
        )
        self._watch = NetworkWatch(self._context)
        self._context.on("response", self._on_response)
        self._context.on("requestfailed", self._on_request_failed)
        page = await self._context.new_page()
        page.on("websocket", lambda socket: self._websockets.append(socket.url))
        self._page = page
        self._cdp = await self._context.new_cdp_session(page)
        tree = await self._cdp.send("Page.getFrameTree")
        self._main_frame_id = str(tree["frameTree"]["frame"]["id"])
        self._cdp.on("Network.responseReceived", self._on_cdp_response)
        await self._cdp.send("Network.enable")

    async def navigate(self, url: str, budget: Budget) -> None:
        """Loads ``url`` until its first response arrives; raises when none does."""
        with self._timed("navigation"):
            try:
                await self.page.goto(url, wait_until="commit", timeout=budget.ms())
            except PlaywrightTimeoutError:
                self._raise_if_refused()
                raise CaptureFailed(
                    f"{url} did not answer within {budget.seconds:g} seconds"
                ) from None
            except PlaywrightError as exc:
                self._raise_if_refused()
                raise CaptureFailed(f"the browser could not load {url}: {_reason(exc)}") from exc

    async def settle(self, budget: Budget) -> None:
        """Waits for the load event and then for the network to go quiet, within budget."""
        with self._timed("load"):
            try:
                # At most half the budget: a page that never finishes loading still gets
                # its consent banner dismissed and its lazy content scrolled into view.
                await self.page.wait_for_load_state("load", timeout=budget.ms(budget.seconds / 2))
                self.page_loaded = True
            except PlaywrightError:
                self.page_loaded = False  # Captured as it stands (see the module docstring).
        self._raise_if_refused()
        if self.page_loaded:
            with self._timed("network_idle"):
                await self._quiet(budget, NETWORK_IDLE_CAP)

    async def _quiet(self, budget: Budget, cap: float) -> None:
        if self._watch is not None:
            await self._watch.quiet(min(cap, budget.left()))

    # -- bot protection ---------------------------------------------------------------

    async def challenge(self, budget: Budget, *, wait: float = 0.0) -> str | None:
        """The kind of challenge the page is, giving it ``wait`` seconds to clear itself."""
        with self._timed("challenge_check"):
            kind = await self._detect()
            if kind is None or wait <= 0:
                return kind
            loop = asyncio.get_running_loop()
            until = loop.time() + min(wait, budget.left())
            while kind is not None and loop.time() < until:
                # JS challenges (Cloudflare's, DataDome's) navigate once they pass.
                with contextlib.suppress(PlaywrightError):
                    await self.page.wait_for_event(
                        "framenavigated",
                        predicate=lambda frame: frame == self.page.main_frame,
                        timeout=max(1.0, (until - loop.time()) * 1000),
                    )
                    await self.page.wait_for_load_state("load", timeout=budget.ms())
                    await self._quiet(budget, 2.0)
                kind = await self._detect()
            if kind is None:
                self.page_loaded = True
            return kind

    async def _detect(self) -> str | None:
        try:
            facts = await self.page.evaluate(FACTS_SCRIPT)
        except PlaywrightError:
            return None  # Navigating: the next look decides.
        response = self._main_response
        status, headers = 0, {}
        if response is not None:
            status = response.status
            with contextlib.suppress(PlaywrightError):
                headers = await response.all_headers()
        return detect_challenge(
            PageFacts(
                status=status,
                headers=headers,
                title=str(facts["title"]),
                html=str(facts["html"]),
                text=str(facts["text"]),
                password_fields=int(facts["passwordFields"]),
                text_inputs=int(facts["textInputs"]),
                widgets=tuple(str(kind) for kind in facts["widgets"]),
            )
        )

    # -- making the evidence ---------------------------------------------------------

    async def finish(self, budget: Budget, *, assisted: bool = False) -> CaptureResult:
        page = self.page
        consent: list[str] = []
        with self._timed("consent"):
            consent += await self._dismiss(budget)
        with self._timed("scroll"):
            scrolled = await self._bounded(
                scroll_through(
                    page,
                    seconds=min(SCROLL_CAP, budget.left()),
                    max_height=self.options.max_scroll_height,
                ),
                budget,
            )
        if scrolled is None or scrolled.steps:
            # Scrolling brought new content (and sometimes a late banner) into view.
            with self._timed("network_idle_after_scroll"):
                await self._quiet(budget, AFTER_SCROLL_IDLE_CAP)
            with self._timed("consent_after_scroll"):
                consent += [name for name in await self._dismiss(budget) if name not in consent]
            await self._bounded(scroll_to_top(page), budget)

        with self._timed("screenshot"):
            screenshot = await self._screenshot(budget)
        with self._timed("dom"):
            dom = await self._content(budget)
            title = await self._bounded(page.title(), budget) or ""
        final_url = page.url
        # The page may have navigated by itself since it loaded (meta refresh, a Refresh
        # header, a script), and a refused target leaves Chromium's error page behind:
        # what was just photographed is then no page of the site at all.
        self._raise_if_refused()
        if final_url.startswith("chrome-error:"):
            raise CaptureFailed("the page navigated to an address the browser could not load")
        tls = self._tls(final_url) or await self._playwright_tls(final_url)
        main_status = self._main_response.status if self._main_response is not None else 0
        finished = datetime.now(UTC)

        with self._timed("har"):
            har_bytes = await self._close_for_har()
            recorded = read_har(har_bytes, self.proxy.log)
        blocked = list(recorded.refused)
        for request in self._failed:
            origin = origin_of(request.url)
            refusal = self.proxy.log.refusal_for(*origin) if origin else None
            if refusal is not None and refusal.policy:
                blocked.append(request.url)
        for url in self._websockets:
            origin = origin_of(url)
            refusal = self.proxy.log.refusal_for(*origin) if origin else None
            if refusal is not None and refusal.policy:
                blocked.append(url)

        return CaptureResult(
            requested_url=self.requested_url,
            final_url=final_url,
            title=title,
            started=self.started,
            finished=finished,
            viewport=self.options.viewport,
            user_agent=self.user_agent,
            browser_version=self.browser.version,
            screenshot_png=screenshot,
            har=recorded.har,
            dom_html=dom,
            exchanges=recorded.exchanges,
            redirects=recorded.redirects,
            server_ips=self.proxy.log.addresses,
            tls=tls,
            consent_dismissed=tuple(consent),
            assisted=assisted,
            blocked_requests=tuple(dict.fromkeys(blocked)),
            final_status=recorded.final_status or main_status,
            page_loaded=self.page_loaded,
            timings=tuple(self.timings),
        )

    async def _dismiss(self, budget: Budget) -> list[str]:
        seconds = min(CONSENT_CAP, budget.left())
        if seconds <= 0:
            return []
        dismissed = await self._bounded(dismiss_banners(self.page, budget=seconds), budget)
        if dismissed:
            await self._quiet(budget, 2.0)
        return dismissed or []

    async def _screenshot(self, budget: Budget) -> bytes:
        timeout = budget.ms(keep_reserve=False)
        try:
            return await self.page.screenshot(full_page=True, type="png", timeout=timeout)
        except PlaywrightError as exc:
            log.info("full-page screenshot failed (%s); taking the viewport", _reason(exc))
        try:
            return await self.page.screenshot(type="png", timeout=budget.ms(keep_reserve=False))
        except PlaywrightError as exc:
            raise CaptureFailed(f"the page could not be photographed: {_reason(exc)}") from exc

    async def _content(self, budget: Budget) -> str:
        for _ in range(3):
            try:
                return await asyncio.wait_for(
                    self.page.content(), budget.left(keep_reserve=False) or 0.1
                )
            except PlaywrightError:
                # "Unable to retrieve content because the page is navigating".
                with contextlib.suppress(PlaywrightError):
                    await self.page.wait_for_load_state("domcontentloaded", timeout=1000)
            except TimeoutError:
                break
        raise CaptureFailed("the rendered page could not be read")

    async def _bounded(self, awaitable: Any, budget: Budget) -> Any:
        """``awaitable``'s value, or ``None`` if the page blocks it past the budget."""
        try:
            return await asyncio.wait_for(awaitable, max(0.1, budget.left()) + 1.0)
        except (TimeoutError, PlaywrightError):
            return None

    async def _close_for_har(self) -> bytes:
        # Playwright writes the HAR when its context closes.
        context, self._context = self._context, None
        if context is not None:
            await context.close()
        path = self._har_dir / "capture.har"
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CaptureFailed("the browser wrote no network log") from exc

    async def _playwright_tls(self, final_url: str) -> TlsDetails | None:
        """From Playwright's view of the main response when Chromium's own report is
        missing; it does not name the cipher."""
        response = self._main_response
        if response is None or not final_url.startswith("https:") or response.url != final_url:
            return None
        try:
            details = await response.security_details()
        except PlaywrightError:
            return None
        if not details:
            return None
        return TlsDetails(
            protocol=str(details.get("protocol", "")),
            cipher="",
            subject_name=str(details.get("subjectName", "")),
            issuer=str(details.get("issuer", "")),
            valid_from=datetime.fromtimestamp(float(details.get("validFrom") or 0), UTC),
            valid_to=datetime.fromtimestamp(float(details.get("validTo") or 0), UTC),
        )

    def _tls(self, final_url: str) -> TlsDetails | None:
        details = self._security.get(final_url)
        if not final_url.startswith("https:") or details is None:
            return None
        return TlsDetails(
            protocol=str(details.get("protocol", "")),
            cipher=_cipher(details),
            subject_name=str(details.get("subjectName", "")),
            issuer=str(details.get("issuer", "")),
            valid_from=datetime.fromtimestamp(float(details.get("validFrom", 0)), UTC),
            valid_to=datetime.fromtimestamp(float(details.get("validTo", 0)), UTC),
        )

    # -- closing ------------------------------------------------------------------

    async def discard(self) -> None:
        """Ends the context and the proxy; safe to call more than once."""
        if self.closed:
            return
        self.closed = True
        context, self._context = self._context, None
        if context is not None:
            with contextlib.suppress(PlaywrightError):
                await asyncio.wait_for(context.close(), 15)
        await self.proxy.close()
        shutil.rmtree(self._har_dir, ignore_errors=True)

    # -- events -------------------------------------------------------------------

    def _on_response(self, response: Response) -> None:
        request = response.request
        if request.is_navigation_request() and self._is_main(request):
            self._main_response = response

    def _on_request_failed(self, request: Request) -> None:
        self._failed.append(request)
        if request.is_navigation_request() and self._is_main(request):
            self._main_failures.append(request)

    def _is_main(self, request: Request) -> bool:
        try:
            return self._page is not None and request.frame == self._page.main_frame
        except PlaywrightError:
            return False  # Service-worker requests have no frame.

    def _on_cdp_response(self, params: dict[str, Any]) -> None:
        if params.get("type") != "Document" or params.get("frameId") != self._main_frame_id:
            return
        response = params.get("response", {})
        details = response.get("securityDetails")
        if details:
            self._security[str(response.get("url"))] = details

    def _raise_if_refused(self) -> None:
        """A main document the policy refused (at first or after a redirect) is a URL that
        may not be captured, not a failure to load it; one whose server could not be
        reached gets that said, rather than the browser's vaguer error."""
        for request in self._main_failures:
            origin = origin_of(request.url)
            refusal = self.proxy.log.refusal_for(*origin) if origin else None
            if refusal is not None and refusal.policy:
                via = (
                    ""
                    if request.url == self.requested_url
                    else "the page redirected or navigated: "
                )
                raise InvalidCaptureUrl(via + refusal.reason)
            if refusal is not None:
                raise CaptureFailed(f"{request.url} could not be loaded: {refusal.reason}")
            failure = self.proxy.log.unreachable_for(*origin) if origin else None
            if failure is not None:
                raise CaptureFailed(
                    f"{request.url} is unreachable: no connection to {failure.address} "
                    f"port {failure.port}"
                )

    @contextlib.contextmanager
    def _timed(self, step: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings.append(Timing(step, round((time.monotonic() - started) * 1000, 1)))


def _cipher(details: dict[str, Any]) -> str:
    cipher = str(details.get("cipher", ""))
    mac = details.get("mac")
    group = details.get("keyExchangeGroup") or details.get("keyExchange")
    parts = [cipher + (f" with {mac}" if mac else "")]
    if group:
        parts.append(f"key exchange {group}")
    return ", ".join(parts)


def _reason(exc: PlaywrightError) -> str:
    first = exc.message.splitlines()[0] if exc.message else type(exc).__name__
    return first.removeprefix("Page.goto: ").strip()
