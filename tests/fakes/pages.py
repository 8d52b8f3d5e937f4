"""A small website for capture tests, served on 127.0.0.1 and on 127.0.0.2 at one port.

The second address stands for "a private address": the egress policy in the tests
allowlists 127.0.0.1 only, so anything a page points at on 127.0.0.2 must be refused
— and since 127.0.0.2 serves the very same site, a request that got through would
succeed and show up, which is what makes the refusal tests able to fail.

Pages: plain, redirects, slow, lazy content, consent banners (OneTrust-, Cookiebot-,
Usercentrics- and iframe-style, and a generic one), imitations of each bot-protection
challenge, ordinary error pages, subresources on the private address, pages that hang,
a WebSocket, a WebRTC peer connection whose STUN server listens (UDP) on 127.0.0.2, a
challenge a person clears (for assisted capture), and the same plain page
over https (``https_url``, with a certificate whose SPKI hash ``spki_hash`` a browser
can be told to trust).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import ipaddress
import socket
import ssl
import struct
import tempfile
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PUBLIC_HOST = "127.0.0.1"
PRIVATE_HOST = "127.0.0.2"
WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    hang: str = ""  # "" answers; "silent" never answers; "partial" sends half, then stalls


@dataclass(frozen=True)
class Hit:
    address: str  # the address the request arrived at
    host: str  # its Host header
    path: str
    headers: tuple[tuple[str, str], ...] = ()


def png(width: int, height: int, rgb: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """A solid-colour PNG, so pages have real images without a file on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        payload = kind + data
        return struct.pack(">I", len(data)) + payload + struct.pack(">I", zlib.crc32(payload))

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def html(title: str, body: str, *, head: str = "") -> bytes:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>body{{font-family:sans-serif;margin:24px}}</style>{head}</head>"
        f"<body>{body}</body></html>"
    ).encode()


BANNER_STYLE = (
    "position:fixed;left:0;right:0;bottom:0;padding:16px;background:#222;color:#fff;z-index:1000"
)

CHALLENGE_SCRIPT = """
<script>
  document.getElementById('verify').addEventListener('click', () => {
    document.cookie = 'cleared=1; path=/';
    location.href = '/assisted/cleared';
  });
  document.getElementById('answer').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && event.target.value === 'human') {
      document.cookie = 'cleared=1; path=/';
      location.href = '/assisted/cleared';
    }
  });
</script>
"""


class LocalSite:
    """``with LocalSite() as site:`` serves until the block ends; ``site.url(path)`` on
    127.0.0.1, ``site.private_url(path)`` on 127.0.0.2, ``site.https_url(path)``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: list[Hit] = []
        self._stopping = threading.Event()
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self._directory = tempfile.TemporaryDirectory(prefix="notarium-pages-")
        self.port = 0
        self.tls_port = 0
        self.spki_hash = ""
        self.closed_port = 0
        self.udp_port = 0
        self._udp: socket.socket | None = None
        self._udp_senders: list[tuple[str, int]] = []

    # -- addresses ------------------------------------------------------------------

    def url(self, path: str = "/", host: str = PUBLIC_HOST) -> str:
        return f"http://{host}:{self.port}{path}"

    def private_url(self, path: str = "/") -> str:
        return self.url(path, PRIVATE_HOST)

    def https_url(self, path: str = "/") -> str:
        return f"https://{PUBLIC_HOST}:{self.tls_port}{path}"

    @property
    def unreachable_url(self) -> str:
        """A URL on 127.0.0.1 whose port nothing listens on."""
        return f"http://{PUBLIC_HOST}:{self.closed_port}/"

    def clear_hits(self) -> None:
        with self._lock:
            self._hits.clear()
            self._udp_senders.clear()

    @property
    def udp_senders(self) -> list[tuple[str, int]]:
        """Who sent UDP datagrams to the STUN port on 127.0.0.2 (WebRTC's way out)."""
        with self._lock:
            return list(self._udp_senders)

    def hits(self, address: str | None = None) -> list[Hit]:
        with self._lock:
            return [hit for hit in self._hits if address is None or hit.address == address]

    # -- lifecycle ------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        public, private = _pair_of_servers(self._handler())
        self.port = int(public.server_address[1])
        tls = _Server((PUBLIC_HOST, 0), self._handler())
        certificate = Path(self._directory.name)
        context, self.spki_hash = _tls_context(certificate)
        tls.socket = context.wrap_socket(tls.socket, server_side=True)
        self.tls_port = int(tls.server_address[1])
        with socket.socket() as probe:
            probe.bind((PUBLIC_HOST, 0))
            self.closed_port = int(probe.getsockname()[1])
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((PRIVATE_HOST, 0))
        self._udp.settimeout(0.05)
        self.udp_port = int(self._udp.getsockname()[1])
        udp_thread = threading.Thread(target=self._listen_udp, daemon=True)
        self._threads.append(udp_thread)
        udp_thread.start()
        for server in (public, private, tls):
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._servers.append(server)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._udp is not None:
            self._udp.close()
        self._directory.cleanup()

    def _listen_udp(self) -> None:
        assert self._udp is not None
        while not self._stopping.is_set():
            try:
                _, sender = self._udp.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._udp_senders.append(sender)

    # -- pages ----------------------------------------------------------------------

    def answer(self, path: str, host: str) -> Answer:
        route = urlsplit(path).path
        page = self._routes().get(route)
        if page is None:
            return Answer(404, html("Not found", "<h1>404 Not Found</h1><p>No such page.</p>"))
        return page(host)

    def _routes(self) -> dict[str, Callable[[str], Answer]]:
        private = self.private_url
        pages: dict[str, Callable[[str], Answer]] = {
            "/plain": lambda host: Answer(
                body=html(
                    "A plain page",
                    "<h1>A plain page</h1><p id='text'>Nothing but text and a picture.</p>"
                    "<img id='picture' src='/pixel.png' width='120' height='80' alt='pixel'>",
                    head="<link rel='stylesheet' href='/style.css'>",
                )
            ),
            "/pixel.png": lambda host: Answer(body=png(12, 8), content_type="image/png"),
            "/style.css": lambda host: Answer(
                body=b"h1{color:#036}", content_type="text/css; charset=utf-8"
            ),
            "/redirect/1": lambda host: Answer(301, headers=(("Location", "/redirect/2"),)),
            "/redirect/2": lambda host: Answer(
                302, headers=(("Location", f"http://{host}/redirect/final"),)
            ),
            "/redirect/final": lambda host: Answer(
                body=html("Redirect target", "<h1>Arrived after two redirects</h1>")
            ),
            "/redirect/private": lambda host: Answer(
                302, headers=(("Location", private("/plain")),)
            ),
            "/slow": lambda host: Answer(
                body=html("A slow page", "<h1 id='slow'>Worth the wait</h1>"), delay=1.5
            ),
            "/lazy": lambda host: Answer(body=_lazy_page()),
            "/lazy/content": lambda host: Answer(
                body=b"<p id='lazy-loaded'>Loaded only after scrolling</p>"
                b"<img id='lazy-image' src='/lazy/picture.png' width='300' height='200'>",
                content_type="text/html; charset=utf-8",
            ),
            "/lazy/picture.png": lambda host: Answer(
                body=png(300, 200, (200, 60, 60)), content_type="image/png"
            ),
            "/consent/onetrust": lambda host: Answer(body=_onetrust_page()),
            "/consent/cookiebot": lambda host: Answer(body=_cookiebot_page()),
            "/consent/usercentrics": lambda host: Answer(body=_usercentrics_page()),
            "/consent/generic": lambda host: Answer(body=_generic_consent_page()),
            "/consent/iframe": lambda host: Answer(body=_iframe_consent_page()),
            "/consent/iframe-banner": lambda host: Answer(body=_iframe_banner()),
            "/private-subresources": lambda host: Answer(body=_private_subresources(private)),
            "/private/data.json": lambda host: Answer(
                body=b'{"private": true}',
                content_type="application/json",
                headers=(("Access-Control-Allow-Origin", "*"),),
            ),
            "/private/script.js": lambda host: Answer(
                body=b"document.title = 'private script ran';",
                content_type="text/javascript",
            ),
            "/private/frame": lambda host: Answer(body=html("private frame", "<p>inside</p>")),
            "/rebind": lambda host: Answer(body=_rebind_page()),
            "/webrtc": lambda host: Answer(body=_webrtc_page(self.udp_port)),
            "/rebind/data.json": lambda host: Answer(
                body=b'{"rebound": true}', content_type="application/json"
            ),
            "/hang/partial": lambda host: Answer(
                body=html(
                    "Never finishes",
                    "<h1 id='early'>The start of a page that never ends</h1>"
                    + "<p>"
                    + "filler " * 200
                    + "</p>",
                ),
                hang="partial",
            ),
            "/hang/silent": lambda host: Answer(hang="silent"),
            "/error/403": lambda host: Answer(
                403, html("403 Forbidden", "<h1>Forbidden</h1><p>You may not see this.</p>")
            ),
            "/error/404": lambda host: Answer(
                404, html("404 Not Found", "<h1>Not Found</h1><p>This page is gone.</p>")
            ),
            "/error/500": lambda host: Answer(
                500, html("Server error", "<h1>Internal Server Error</h1>")
            ),
            # Pages that load fine, then navigate to the private address by themselves.
            "/later/meta-refresh": lambda host: Answer(
                body=html(
                    "Moving on",
                    "<h1>Moving on</h1>",
                    head=f"<meta http-equiv='refresh' content='0;url={private('/plain')}'>",
                )
            ),
            "/later/refresh-header": lambda host: Answer(
                body=html("Moving on", "<h1>Moving on</h1>"),
                headers=(("Refresh", f"0; url={private('/plain')}"),),
            ),
            "/later/script": lambda host: Answer(
                body=html(
                    "Moving on",
                    "<h1>Moving on</h1><script>setTimeout(() => "
                    f"{{ location = '{private('/plain')}'; }}, 300);</script>",
                )
            ),
            # Navigates only when scrolled, which the capture does after the page loaded.
            "/later/on-scroll": lambda host: Answer(
                body=html(
                    "Scroll away",
                    "<h1>Scroll away</h1><div style='height:4000px'></div><script>"
                    "addEventListener('scroll', () => "
                    f"{{ location = '{private('/plain')}'; }}, {{ once: true }});</script>",
                )
            ),
            "/assisted/challenge": lambda host: Answer(body=_assisted_challenge()),
            "/assisted/cleared": lambda host: Answer(
                body=html("Cleared", "<h1 id='cleared'>The real page, after the check</h1>")
            ),
        }
        pages.update({f"/bot/{kind}": _bot_page(kind) for kind in BOT_PAGES})
        return pages

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                address = self.connection.getsockname()[0]
                host = self.headers.get("Host", "")
                headers = tuple((name.lower(), value) for name, value in self.headers.items())
                with site._lock:
                    site._hits.append(Hit(address, host, self.path, headers))
                if (
                    urlsplit(self.path).path == "/ws"
                    and "websocket" in self.headers.get("Upgrade", "").lower()
                ):
                    self._websocket()
                    return
                self._send(site.answer(self.path, host))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                self.rfile.read(min(length, 1 << 20))
                self.do_GET()

            def _send(self, answer: Answer) -> None:
                if answer.hang == "silent":
                    site._stopping.wait()
                    return
                if answer.delay:
                    site._stopping.wait(answer.delay)
                with contextlib.suppress(OSError):
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    for name, value in answer.headers:
                        self.send_header(name, value)
                    if answer.hang == "partial":
                        # No length, no end: the browser keeps waiting for the rest.
                        self.send_header("Cache-Control", "no-store")
                        self.end_headers()
                        self.wfile.write(answer.body[: len(answer.body) // 2])
                        self.wfile.flush()
                        site._stopping.wait()
                        self.close_connection = True
                        return
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)

            def _websocket(self) -> None:
                key = self.headers.get("Sec-WebSocket-Key", "").encode()
                accept = base64.b64encode(hashlib.sha1(key + WEBSOCKET_GUID).digest())  # noqa: S324
                with contextlib.suppress(OSError):
                    self.send_response(101, "Switching Protocols")
                    self.send_header("Upgrade", "websocket")
                    self.send_header("Connection", "Upgrade")
                    self.send_header("Sec-WebSocket-Accept", accept.decode())
                    self.end_headers()
                    message = b"hello from the websocket"
                    self.wfile.write(bytes([0x81, len(message)]) + message)
                    self.wfile.flush()
                    self.connection.settimeout(0.2)
                    while not site._stopping.is_set():
                        try:
                            if not self.connection.recv(1024):
                                break
                        except TimeoutError:
                            continue
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # Browsers hang up on pages mid-answer; that is what the hanging pages are for.


def _pair_of_servers(
    handler: type[BaseHTTPRequestHandler],
) -> tuple[ThreadingHTTPServer, ThreadingHTTPServer]:
    """Servers on 127.0.0.1 and 127.0.0.2 at the same port (so one host name can move
    from one address to the other, as DNS rebinding does)."""
    for _ in range(20):
        public = _Server((PUBLIC_HOST, 0), handler)
        try:
            private = _Server((PRIVATE_HOST, int(public.server_address[1])), handler)
        except OSError:
            public.server_close()
            continue
        return public, private
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


def _tls_context(directory: Path) -> tuple[ssl.SSLContext, str]:
    """A server context with a fresh self-signed certificate for 127.0.0.1, and the
    base64 SHA-256 of its SubjectPublicKeyInfo (what Chromium's
    ``--ignore-certificate-errors-spki-list`` takes)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, PUBLIC_HOST),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "notarium test site"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(PUBLIC_HOST))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return context, base64.b64encode(hashlib.sha256(spki).digest()).decode()


# -- page bodies -------------------------------------------------------------------------


def _lazy_page() -> bytes:
    return html(
        "Lazy content",
        "<h1>Scroll down</h1><div style='height:3200px;background:linear-gradient(#fff,#ccd)'>"
        "</div><div id='sentinel'>the end is near</div><div id='slot'></div>"
        "<script>"
        "new IntersectionObserver((entries, observer) => {"
        "  if (!entries.some((e) => e.isIntersecting)) return;"
        "  observer.disconnect();"
        "  fetch('/lazy/content').then((r) => r.text()).then((text) => {"
        "    const slot = document.getElementById('slot');"
        "    slot.innerHTML = text;"
        "    slot.style.height = '900px';"
        "  });"
        "}).observe(document.getElementById('sentinel'));"
        "</script>",
    )


def _onetrust_page() -> bytes:
    return html(
        "OneTrust page",
        "<h1>Article behind a OneTrust banner</h1><p>" + "Text. " * 50 + "</p>"
        "<div id='onetrust-consent-sdk'><div id='onetrust-banner-sdk' "
        f"style='{BANNER_STYLE}'><p id='onetrust-policy-text'>We use cookies to improve "
        "your experience.</p><button id='onetrust-pc-btn-handler'>Cookie settings</button>"
        "<button id='onetrust-accept-btn-handler'>Accept All Cookies</button></div></div>"
        "<script>document.getElementById('onetrust-accept-btn-handler').onclick = () => {"
        "document.cookie = 'OptanonAlertBoxClosed=1; path=/';"
        "document.getElementById('onetrust-consent-sdk').remove();};</script>",
    )


def _cookiebot_page() -> bytes:
    return html(
        "Cookiebot page",
        "<h1>Shop behind a Cookiebot dialog</h1><p>" + "Goods. " * 50 + "</p>"
        f"<div id='CybotCookiebotDialog' role='dialog' style='{BANNER_STYLE}'>"
        "<h2>This website uses cookies</h2>"
        "<a id='CybotCookiebotDialogBodyButtonDecline' href='#'>Deny</a> "
        "<a id='CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll' href='#'>Allow all</a>"
        "</div><script>document.getElementById("
        "'CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll').onclick = (event) => {"
        "event.preventDefault(); document.getElementById('CybotCookiebotDialog').remove();};"
        "</script>",
    )


def _usercentrics_page() -> bytes:
    return html(
        "Usercentrics page",
        "<h1>Magazine behind a Usercentrics banner</h1><div id='usercentrics-root'></div>"
        "<script>const root = document.getElementById('usercentrics-root')"
        ".attachShadow({mode: 'open'});"
        f"root.innerHTML = \"<div style='{BANNER_STYLE}'>We and our partners use cookies."
        "<button data-testid='uc-deny-all-button'>Deny</button>"
        "<button data-testid='uc-accept-all-button'>Accept All</button></div>\";"
        "root.querySelector(\"[data-testid='uc-accept-all-button']\").onclick = () =>"
        " document.getElementById('usercentrics-root').remove();</script>",
    )


def _generic_consent_page() -> bytes:
    return html(
        "Generic consent page",
        "<h1>A blog</h1><form><p>Terms of the giveaway.</p>"
        "<button type='button' id='content-accept' "
        "onclick=\"document.body.dataset.wrong='clicked'\">Accept</button></form>"
        f"<div class='site-notice' style='{BANNER_STYLE}'>This site uses cookies for "
        "analytics. <button type='button' id='banner-accept' "
        'onclick="this.parentElement.remove()">Accept all</button></div>',
    )


def _iframe_consent_page() -> bytes:
    return html(
        "Consent in an iframe",
        "<h1>News behind a framed consent dialog</h1>"
        "<iframe id='sp_message_iframe_1' src='/consent/iframe-banner' "
        "style='position:fixed;bottom:0;left:0;width:100%;height:160px;border:0'></iframe>"
        "<script>addEventListener('message', (event) => { if (event.data === 'consented')"
        " document.getElementById('sp_message_iframe_1').remove(); });</script>",
    )


def _iframe_banner() -> bytes:
    return html(
        "consent",
        "<div class='message-container'><p>We use cookies.</p>"
        "<button class='message-component message-button sp_choice_type_12'>Options</button>"
        "<button class='message-component message-button sp_choice_type_11' "
        "onclick=\"parent.postMessage('consented', '*')\">Accept all</button></div>",
    )


def _private_subresources(private: Callable[[str], str]) -> bytes:
    websocket = private("/ws").replace("http://", "ws://")
    return html(
        "Subresources on a private address",
        "<h1>Public page, private subresources</h1>"
        f"<img id='public-picture' src='/pixel.png' width='12' height='8'>"
        f"<img id='private-picture' src='{private('/pixel.png')}' width='12' height='8'>"
        f"<script src='{private('/private/script.js')}'></script>"
        f"<iframe id='private-frame' src='{private('/private/frame')}'></iframe>"
        "<p id='fetch'>pending</p><p id='socket'>pending</p>"
        "<script>"
        f"fetch('{private('/private/data.json')}').then((r) => r.text())"
        ".then((t) => { document.getElementById('fetch').textContent = 'fetched ' + t; })"
        ".catch(() => { document.getElementById('fetch').textContent = 'fetch failed'; });"
        f"const socket = new WebSocket('{websocket}');"
        "socket.onmessage = (m) => { document.getElementById('socket').textContent ="
        " 'socket said ' + m.data; };"
        "socket.onerror = () => { document.getElementById('socket').textContent ="
        " 'socket failed'; };"
        "</script>",
    )


def _rebind_page() -> bytes:
    return html(
        "Rebinding",
        "<h1>A page whose host name moves</h1><p id='data'>pending</p>"
        "<script>addEventListener('load', () => setTimeout(() =>"
        " fetch('/rebind/data.json').then((r) => r.text())"
        ".then((t) => { document.getElementById('data').textContent = 'fetched ' + t; })"
        ".catch(() => { document.getElementById('data').textContent = 'fetch failed'; }),"
        " 100));</script>",
    )


def _webrtc_page(stun_port: int) -> bytes:
    """ICE gathering sends STUN binding requests over UDP, which no HTTP proxy carries."""
    return html(
        "WebRTC",
        "<h1>Peer connection</h1><p id='ice'>gathering</p><script>"
        f"const pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:{PRIVATE_HOST}:"
        f"{stun_port}'}}]}});"
        "pc.createDataChannel('probe');"
        "pc.onicegatheringstatechange = () => {"
        " document.getElementById('ice').textContent = pc.iceGatheringState; };"
        "pc.createOffer().then((offer) => pc.setLocalDescription(offer));</script>",
    )


def _assisted_challenge() -> bytes:
    return html(
        "Just a moment...",
        "<div style='position:absolute;left:100px;top:100px'>"
        "<p>Checking your browser before accessing the site.</p>"
        "<button id='verify' style='width:200px;height:60px'>Verify</button></div>"
        "<div style='position:absolute;left:100px;top:300px'>"
        "<input id='answer' style='width:200px;height:30px' placeholder='type human'></div>"
        "<script>window._cf_chl_opt = {cType: 'managed'};</script>" + CHALLENGE_SCRIPT,
    )


CF_HEADERS = (("Server", "cloudflare"), ("CF-RAY", "8a1b2c3d4e5f6789-FRA"))

BOT_PAGES: dict[str, Answer] = {
    "cloudflare": Answer(
        403,
        html(
            "Just a moment...",
            "<div class='main-wrapper'><h1>example.com</h1><p>Checking if the site connection "
            "is secure</p><div id='challenge-stage'></div></div>"
            "<script>window._cf_chl_opt = {cvId: '3', cType: 'managed', cRay: '8a1b2c3d'};"
            "</script><script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'>"
            "</script>",
        ),
        headers=(*CF_HEADERS, ("cf-mitigated", "challenge")),
    ),
    "cloudflare-quiet": Answer(
        503,
        html(
            "Just a moment...",
            "<p>Please wait while your request is being verified...</p>"
            "<form id='challenge-form' action='/?__cf_chl_f_tk=abc' method='POST'></form>"
            "<script>window._cf_chl_opt = {cType: 'non-interactive'};</script>",
        ),
        headers=CF_HEADERS,
    ),
    "cloudflare-passes": Answer(
        200,
        html(
            "Just a moment...",
            "<p>Checking your browser...</p>"
            "<script>window._cf_chl_opt = {cType: 'non-interactive'};"
            "setTimeout(() => { location.href = '/plain'; }, 400);</script>",
        ),
        headers=CF_HEADERS,
    ),
    "turnstile": Answer(
        200,
        html(
            "Security check",
            "<h2>Verify you are human</h2><form action='/verify' method='POST'>"
            "<div class='cf-turnstile' data-sitekey='0x4AAAAAAA' "
            "style='width:300px;height:65px;border:1px solid #ccc'></div>"
            "<button type='submit'>Continue</button></form>",
        ),
    ),
    "hcaptcha": Answer(
        200,
        html(
            "One more step",
            "<h2>Please complete the security check to access the site</h2>"
            "<form method='POST'><div class='h-captcha' data-sitekey='10000000-ffff' "
            "style='width:303px;height:78px;border:1px solid #ccc'></div></form>",
        ),
    ),
    "recaptcha": Answer(
        429,
        html(
            "https://www.example.com/",
            "<div>Our systems have detected unusual traffic from your computer network. "
            "This page checks to see if it's really you sending the requests, and not a "
            "robot.</div><form id='captcha-form' method='post'>"
            "<div class='g-recaptcha' data-sitekey='6LfwuyUT' "
            "style='width:304px;height:78px;border:1px solid #ccc'></div>"
            "<input type='hidden' name='q' value='EgQ'></form>",
        ),
    ),
    "imperva": Answer(
        200,
        html(
            "",
            "<iframe id='main-iframe' src='/_Incapsula_Resource?CWUDNSAI=23&xinfo=7-1234' "
            "frameborder='0' width='100%' height='100%' marginheight='0px' "
            "marginwidth='0px'>Request unsuccessful. Incapsula incident ID: "
            "1234000560012345678-98765432101234567</iframe>",
        ),
        headers=(
            ("X-Iinfo", "7-1234567-0 0NNN RT(1700000000000 0) q(0 -1 -1 -1) r(0 -1)"),
            ("Set-Cookie", "incap_ses_123_456789=abc; path=/"),
        ),
    ),
    "datadome": Answer(
        403,
        html(
            "example.com",
            "<p>Please enable JS and disable any ad blocker</p>"
            "<script>var dd={'rt':'c','cid':'AHrlqAAAAAMA','hsh':'2211F522',"
            "'t':'fe','s':17434,'e':'abc','host':'geo.captcha-delivery.com'}</script>",
        ),
        headers=(("X-DataDome", "protected"), ("X-DD-B", "1")),
    ),
    "perimeterx": Answer(
        403,
        html(
            "Access to this page has been denied",
            "<h1>Before we continue...</h1><p>Press &amp; Hold to confirm you are a human "
            "(and not a bot).</p><div id='px-captcha' style='width:310px;height:100px'></div>",
        ),
    ),
    "akamai": Answer(
        403,
        html(
            "Access Denied",
            "<h1>Access Denied</h1>You don't have permission to access this resource on "
            "this server.<p>Reference #18.3c2e4917.1700000000.1a2b3c4d</p>",
        ),
        headers=(("Server", "AkamaiGHost"),),
    ),
    "login-with-captcha": Answer(
        200,
        html(
            "Sign in",
            "<h1>Sign in to your account</h1><form method='post'>"
            "<input type='email' name='email'><input type='password' name='password'>"
            "<div class='g-recaptcha' data-sitekey='6Lf' "
            "style='width:304px;height:78px;border:1px solid #ccc'></div>"
            "<button>Sign in</button></form>",
        ),
    ),
    "cloudflare-served-page": Answer(
        200,
        html(
            "An ordinary page behind Cloudflare",
            "<h1>Ordinary</h1><p>Served through a CDN with bot analytics.</p>"
            "<script>window.__CF$cv$params={r:'8a1b2c3d',t:'MTcwMDAwMDAwMA=='};</script>"
            "<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script>",
        ),
        headers=CF_HEADERS,
    ),
}


def _bot_page(kind: str) -> Callable[[str], Answer]:
    answer = BOT_PAGES[kind]
    return lambda host: answer


@dataclass
class Resolver:
    """An injectable resolver for the egress policy: fixed answers per host name, a queue
    of answers for names that change (DNS rebinding), and no lookup of anything else —
    tests never ask real DNS."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    sequences: dict[str, list[list[str]]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        self.asked.append(host)
        sequence = self.sequences.get(host)
        if sequence:
            current = sequence.pop(0) if len(sequence) > 1 else sequence[0]
        elif host in self.answers:
            current = self.answers[host]
        else:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not a test name")
        return [ipaddress.ip_address(address) for address in current]
