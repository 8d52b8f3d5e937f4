"""Helpers for the sealing tests: small PDFs, a local PKI server and the real validators."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from notarium.adapters.pki.generate import CertifiedKey
from notarium.products.pdf_seal.revocation import (
    CRL_CONTENT_TYPE,
    OCSP_RESPONSE_CONTENT_TYPE,
    build_crl,
    build_ocsp_response,
)

# The CLI ships beside the interpreter running the tests (pyhanko-cli).
PYHANKO = Path(sys.executable).parent / "pyhanko"
PDFSIG = shutil.which("pdfsig")
CERTUTIL = shutil.which("certutil")


def page_text(index: int) -> bytes:
    return f"Hello page {index}".encode()


def make_pdf(pages: int = 1) -> bytes:
    """A small unsigned PDF whose page contents are stored uncompressed."""
    writer = PdfFileWriter()
    font = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Font"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Type1"),
            generic.pdf_name("/BaseFont"): generic.pdf_name("/Helvetica"),
        }
    )
    for index in range(pages):
        content = b"BT /F1 24 Tf 72 720 Td (" + page_text(index) + b") Tj ET"
        stream = generic.StreamObject(stream_data=content)
        resources = generic.DictionaryObject(
            {generic.pdf_name("/Font"): generic.DictionaryObject({generic.pdf_name("/F1"): font})}
        )
        writer.insert_page(
            PageObject(
                contents=writer.add_object(stream),
                media_box=[0, 0, 612, 792],
                resources=resources,
            )
        )
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass
class PkiServer:
    """Serves the CA's CRL and OCSP answers on 127.0.0.1, as the HTTP layer will."""

    ca: CertifiedKey
    revoked: dict[int, datetime] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    base_url: str = ""

    @contextmanager
    def running(self) -> Iterator[PkiServer]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        pki = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                pki.requests.append(f"GET {self.path}")
                if self.path == "/pki/crl":
                    body = build_crl(
                        pki.ca, now=datetime.now(UTC), crl_number=1, revoked=pki.revoked
                    )
                    self._reply(CRL_CONTENT_TYPE, body)
                elif self.path.startswith("/pki/ocsp/"):
                    # RFC 6960 A.1: GET carries the base64 request, URL-encoded, in the path.
                    encoded = urllib.parse.unquote(self.path.removeprefix("/pki/ocsp/"))
                    self._ocsp(base64.b64decode(encoded))
                else:
                    self.send_error(404)

            def do_POST(self) -> None:
                pki.requests.append(f"POST {self.path}")
                if self.path != "/pki/ocsp":
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length", "0"))
                self._ocsp(self.rfile.read(length))

            def _ocsp(self, request_der: bytes) -> None:
                body = build_ocsp_response(
                    request_der, pki.ca, now=datetime.now(UTC), revoked=pki.revoked
                )
                self._reply(OCSP_RESPONSE_CONTENT_TYPE, body)

            def _reply(self, content_type: str, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    output: str


class Validators:
    """``pyhanko sign validate`` and poppler's ``pdfsig`` against one trusted CA."""

    def __init__(self, directory: Path, ca_pem: bytes) -> None:
        self._dir = directory
        self.ca = directory / "ca.pem"
        self.ca.write_bytes(ca_pem)
        self.nss = directory / "nss"
        self.nss.mkdir()
        assert CERTUTIL is not None
        subprocess.run(
            [CERTUTIL, "-N", "-d", f"sql:{self.nss}", "--empty-password"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [CERTUTIL, "-A", "-d", f"sql:{self.nss}", "-n", "ca", "-t", "CT,C,C", "-i", self.ca],
            check=True,
            capture_output=True,
        )
        self._count = 0

    def _file(self, pdf: bytes) -> Path:
        self._count += 1
        path = self._dir / f"doc-{self._count}.pdf"
        path.write_bytes(pdf)
        return path

    def pyhanko(self, pdf: bytes) -> ToolResult:
        result = subprocess.run(
            [PYHANKO, "sign", "validate", "--trust", self.ca, "--trust-replace", self._file(pdf)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        return ToolResult(result.returncode, result.stdout + result.stderr)

    def pdfsig(self, pdf: bytes) -> list[dict[str, str]]:
        """One dict per signature: pdfsig's "- Key: value" lines."""
        assert PDFSIG is not None
        result = subprocess.run(
            [PDFSIG, "-nssdir", f"sql:{self.nss}", self._file(pdf)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        signatures: list[dict[str, str]] = []
        for line in result.stdout.splitlines():
            if line.startswith("Signature #"):
                signatures.append({})
            elif line.strip().startswith("- ") and signatures:
                key, _, value = line.strip()[2:].partition(": ")
                signatures[-1][key] = value
        return signatures


def is_document_timestamp(signature: dict[str, str]) -> bool:
    # poppler 22 neither names nor verifies ETSI.RFC3161 document time-stamps.
    return signature.get("Signature Type") in {"unknown", "ETSI.RFC3161"}


def assert_pdfsig_valid(signatures: list[dict[str, str]], expected_seals: int) -> None:
    seals = [s for s in signatures if not is_document_timestamp(s)]
    assert len(seals) == expected_seals, signatures
    for seal in seals:
        assert seal["Signature Validation"] == "Signature is Valid.", seal
        assert seal["Certificate Validation"] == "Certificate is Trusted.", seal
