"""Assisted capture: the page an ``assistedCaptureUrl`` opens, and its WebSocket.

``GET /assist/{token}`` shows the live remote browser; ``/assist/{token}/ws`` carries
it. The token is the capability: the page and the socket need nothing else, and what
gets certified lands in the account that was given the link. Messages on the socket:

- server → client, binary: one JPEG frame of the viewport (CSS pixels, the size ``ready``
  gives). At most ``window`` frames are unacknowledged at a time; the client sends
  ``{"type": "ack"}`` once it has drawn one, and the browser renders the next only then.
- server → client, text (JSON): ``ready``, ``certified``, ``error``.
- client → server, text (JSON): ``ack``, ``click`` (x, y), ``type`` (text), ``press``
  (key), ``scroll`` (dx, dy), ``certify``.

The live browser belongs to this server process: with several servers, ``/assist/``
must be routed to one of them (or stickily by path).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import secrets
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.websockets import WebSocketDisconnect, WebSocketState

from notarium.app.runtime import Runtime
from notarium.core.errors import NotariumError, ValidationError
from notarium.http.deps import runtime_of
from notarium.http.families.web_capture.present import links
from notarium.http.formats import iso_millis
from notarium.products.web_capture.browser.errors import (
    AssistedSessionClosed,
    BotProtectionBlocked,
    InvalidAssistedInput,
    ServiceBusy,
)
from notarium.products.web_capture.live_sessions import AssistLinkUnknown, Viewer
from notarium.products.web_capture.service import WebCaptureService
from notarium.products.web_capture.values import GrantUnusable, WebCaptureView

log = logging.getLogger(__name__)

router = APIRouter(tags=["assisted capture"])

FRAME_WINDOW = 2
MAX_MESSAGE = 8 * 1024

# Close codes: 1000 certified; 4404 unknown link; 4410 used, expired or withdrawn link;
# 4409 the link was opened in another window; 4429 no browser free; 4000 this browser is
# gone but the link still works (reconnect for a new one); 1011 unexpected failure.
CLOSE_DONE = 1000
CLOSE_FAILED = 1011
CLOSE_RETRY = 4000
CLOSE_UNKNOWN = 4404
CLOSE_REPLACED = 4409
CLOSE_GONE = 4410
CLOSE_BUSY = 4429

PROTECTIONS = {
    "cloudflare": "Cloudflare challenge",
    "turnstile": "Cloudflare Turnstile",
    "hcaptcha": "hCaptcha",
    "recaptcha": "Google reCAPTCHA",
    "imperva": "Imperva (Incapsula)",
    "datadome": "DataDome",
    "perimeterx": "HUMAN (PerimeterX)",
    "akamai": "Akamai Bot Manager",
    "aws_waf": "AWS WAF challenge",
    "challenge": "a human-verification check",
}

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)

_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}


class InvalidMessage(ValidationError):
    code = "invalid_message"


# -- the page ---------------------------------------------------------------------------


@router.get(
    "/assist/{token}",
    response_class=HTMLResponse,
    responses={
        200: {"description": "The assisted-capture page", **_HTML},
        404: {"description": "Unknown link", **_HTML},
        410: {"description": "The link expired, was used, or was withdrawn", **_HTML},
    },
    summary="Assisted capture: clear a bot-protection check in a live browser, then certify",
)
def assist_page(request: Request, token: str) -> Response:
    runtime = runtime_of(request)
    nonce = secrets.token_urlsafe(16)
    context: dict[str, Any] = {"organisation": runtime.settings.organisation, "nonce": nonce}
    try:
        link = runtime.webcaptures.describe_assist(token)
    except GrantUnusable as refused:
        unknown = isinstance(refused, AssistLinkUnknown)
        context.update(
            link=None,
            headline="Unknown link" if unknown else "This link can no longer be used",
            message=refused.message,
        )
        return _render(request, context, nonce, 404 if unknown else 410)
    settings = runtime.settings
    context.update(
        link=link,
        url=link.url,
        protection=PROTECTIONS.get(link.protection, link.protection),
        expires_at=iso_millis(link.expires_at),
        width=settings.capture_viewport_width,
        height=settings.capture_viewport_height,
    )
    return _render(request, context, nonce, 200)


def _render(request: Request, context: dict[str, Any], nonce: str, status: int) -> Response:
    host = request.headers.get("host", "")
    sockets = f" ws://{host} wss://{host}" if host else ""
    html = _templates.get_template("assist.html").render(**context)
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                f"connect-src 'self'{sockets}; base-uri 'none'; form-action 'none'; "
                "frame-ancestors 'none'"
            ),
            # The token is in the address: it must not leak to other sites or caches.
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        },
    )


# -- the socket -------------------------------------------------------------------------


@router.websocket("/assist/{token}/ws")
async def assist_socket(websocket: WebSocket, token: str) -> None:
    runtime: Runtime = websocket.app.state.runtime
    if not _origin_allowed(websocket, runtime.settings.base_url):
        # Before accepting: the handshake itself is refused (403).
        await websocket.close(code=1008)
        return
    await websocket.accept()
    await _Conversation(websocket, runtime.webcaptures, token).run()


def _origin_allowed(websocket: WebSocket, base_url: str) -> bool:
    """Browsers always send ``Origin``: a page elsewhere may not drive this browser even
    if it learnt the link. Clients that are not browsers are judged by the token alone."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    base = urlsplit(base_url)
    allowed = {f"{base.scheme}://{base.netloc}".lower()}
    host = websocket.headers.get("host")
    if host:
        allowed |= {f"http://{host}".lower(), f"https://{host}".lower()}
    return origin.lower() in allowed


class _Conversation:
    """One connection: frames out, input in, until certified, replaced or gone."""

    def __init__(self, websocket: WebSocket, service: WebCaptureService, token: str) -> None:
        self.websocket = websocket
        self.service = service
        self.token = token
        self._sending = asyncio.Lock()
        self._credits = asyncio.BoundedSemaphore(FRAME_WINDOW)
        self._certifying = False
        self._closed = False
        self._ending = False

    async def run(self) -> None:
        try:
            viewer = await self.service.start_assisted(self.token)
        except NotariumError as refused:
            await self._end(refused)
            return
        except Exception:
            log.exception("opening an assisted-capture browser failed")
            await self._end_unexpectedly()
            return
        width, height = viewer.browser.viewport
        try:
            await self._send_json(
                {
                    "type": "ready",
                    "url": viewer.link.url,
                    "protection": viewer.link.protection,
                    "expiresAt": iso_millis(viewer.link.expires_at),
                    "viewport": {"width": width, "height": height},
                    "window": FRAME_WINDOW,
                    "reattached": viewer.reattached,
                }
            )
            async with anyio.create_task_group() as group:
                for part in (self._stream, self._listen, self._watch):
                    group.start_soon(self._guarded, part, viewer, group.cancel_scope)
        finally:
            self.service.leave_assisted(viewer)
            await self._close(CLOSE_DONE)

    async def _guarded(
        self, part: Callable[[Viewer], Awaitable[None]], viewer: Viewer, scope: anyio.CancelScope
    ) -> None:
        """Runs one side of the conversation; whichever side ends, ends them all."""
        try:
            await part(viewer)
        except Exception:
            log.exception("the assisted-capture connection failed")
            await self._end_unexpectedly()
        scope.cancel()

    async def _stream(self, viewer: Viewer) -> None:
        """Frames out, each only once the client has room for it."""
        while True:
            await self._credits.acquire()
            try:
                frame = await viewer.next_frame()
            except AssistedSessionClosed:
                if not self._certifying:
                    await self._session_over()
                    return
                # Certifying ends the browser; the listener reports how it went.
                await anyio.sleep_forever()
            await self._send_bytes(frame.jpeg)

    async def _watch(self, viewer: Viewer) -> None:
        await viewer.replaced.wait()
        await self._end(
            NotariumError(
                "This link was opened in another window, which now has the browser.",
                code="assist_viewer_replaced",
            ),
            CLOSE_REPLACED,
        )

    async def _listen(self, viewer: Viewer) -> None:
        """Commands in, performed one at a time in the order they came."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self._closed = True
                return
            try:
                command = _command(message)
                if await self._act(viewer, command):
                    return
            except (InvalidMessage, InvalidAssistedInput) as bad:
                await self._send_error(bad)
            except AssistedSessionClosed:
                await self._session_over()
                return

    async def _act(self, viewer: Viewer, command: dict[str, Any]) -> bool:
        """Performs one command; True when the conversation is over."""
        kind = command.get("type")
        browser = viewer.browser
        if kind == "ack":
            try:
                self._credits.release()
            except ValueError:
                raise InvalidMessage("`ack` for a frame that was not sent") from None
        elif kind == "click":
            await browser.click(_number(command, "x"), _number(command, "y"))
        elif kind == "type":
            await browser.type(_text(command, "text"))
        elif kind == "press":
            await browser.press(_text(command, "key"))
        elif kind == "scroll":
            await browser.scroll(_number(command, "dx", 0.0), _number(command, "dy", 0.0))
        elif kind == "certify":
            return await self._certify(viewer)
        else:
            raise InvalidMessage("`type` must be one of ack, click, type, press, scroll, certify")
        return False

    async def _certify(self, viewer: Viewer) -> bool:
        self._certifying = True
        try:
            # Once begun, a certification runs to its end even if this connection is
            # being closed (replaced, or the server stopping): cut short, it could
            # leave a record behind with its allowance given back.
            with anyio.CancelScope(shield=True):
                view = await self.service.finish_assisted(self.token, viewer)
        except AssistedSessionClosed:
            await self._session_over()
            return True
        except BotProtectionBlocked as still:
            self._certifying = False
            await self._send_error(
                NotariumError(
                    f"The page still shows a bot-protection check ({still.kind}); clear it "
                    "in the browser, then certify again.",
                    code=still.code,
                )
            )
            return False
        except NotariumError as failed:
            if isinstance(failed, GrantUnusable) or viewer.browser.closed:
                await self._end(failed)
                return True
            # Nothing happened to the browser (e.g. the day's captures are used up).
            self._certifying = False
            await self._send_error(failed)
            return False
        await self._send_json(_certified(view))
        await self._close(CLOSE_DONE)
        return True

    async def _session_over(self) -> None:
        """The browser closed without a certificate: say whether the link still works."""
        try:
            await asyncio.to_thread(self.service.describe_assist, self.token)
        except GrantUnusable as gone:
            await self._end(gone)
            return
        await self._end(
            AssistedSessionClosed(
                "The live browser closed. Reconnect to open a new one; the link still works."
            )
        )

    # -- sending ------------------------------------------------------------------------

    async def _end(self, error: NotariumError, code: int | None = None) -> None:
        if self._ending:
            return  # both sides saw the end; one report is enough
        self._ending = True
        await self._send_error(error)
        await self._close(code or _close_code(error))

    async def _end_unexpectedly(self) -> None:
        await self._end(
            NotariumError("The assisted capture failed unexpectedly.", code="internal_error"),
            CLOSE_FAILED,
        )

    async def _send_error(self, error: NotariumError) -> None:
        await self._send_json(
            {"type": "error", "error": error.code.lower(), "message": error.message}
        )

    async def _send_json(self, message: dict[str, Any]) -> None:
        await self._send({"type": "websocket.send", "text": json.dumps(message)})

    async def _send_bytes(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._sending:
            if self._closed:
                return
            try:
                await self.websocket.send(message)
            except WebSocketDisconnect:
                self._closed = True  # the client went away; nobody is left to tell

    async def _close(self, code: int) -> None:
        async with self._sending:
            if self._closed:
                return
            self._closed = True
            if self.websocket.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(WebSocketDisconnect):
                    await self.websocket.close(code=code)


def _close_code(error: NotariumError) -> int:
    if isinstance(error, AssistLinkUnknown):
        return CLOSE_UNKNOWN
    if isinstance(error, GrantUnusable):
        return CLOSE_GONE
    if isinstance(error, ServiceBusy):
        return CLOSE_BUSY
    return CLOSE_RETRY


def _certified(view: WebCaptureView) -> dict[str, Any]:
    return {
        "type": "certified",
        "certificateId": view.certificate_id,
        "recordingId": view.recording_id,
        "url": view.url,
        "finalUrl": view.final_url,
        "assisted": view.assisted,
        "links": {**links(view), "verify": f"/cert/{view.certificate_id}"},
    }


def _command(message: Mapping[str, Any]) -> dict[str, Any]:
    text = message.get("text")
    if not isinstance(text, str):
        raise InvalidMessage("send commands as JSON text messages")
    if len(text) > MAX_MESSAGE:
        raise InvalidMessage(f"a message is at most {MAX_MESSAGE} characters")
    try:
        command = json.loads(text)
    except ValueError:
        raise InvalidMessage("a message must be a JSON object") from None
    if not isinstance(command, dict):
        raise InvalidMessage("a message must be a JSON object")
    return command


def _number(command: dict[str, Any], name: str, default: float | None = None) -> float:
    value = command.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidMessage(f"`{name}` must be a number")
    return float(value)


def _text(command: dict[str, Any], name: str) -> str:
    value = command.get(name)
    if not isinstance(value, str):
        raise InvalidMessage(f"`{name}` must be a string")
    return value
