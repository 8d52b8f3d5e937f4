"""A throwaway RFC 3161 time-stamp authority on a loopback port, answered by OpenSSL.

Replies come from ``openssl ts -reply`` so that clients are tested against an
implementation notarium did not write. Knobs make the next replies misbehave in
the ways a real remote TSA can: server errors, rejections, tokens for another
digest and tokens whose signature was damaged on the way.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from notarium.formats.rfc3161.asn1 import TimeStampResp

POLICY_OID = "1.3.6.1.4.1.99999.3161.1"
OTHER_POLICY_OID = "1.3.6.1.4.1.99999.3161.2"
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
PATH = "/tsr"
MAX_QUERY = 64 * 1024

_CONFIG = f"""\
[tsa]
default_tsa = tsa_config

[tsa_config]
dir = .
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = {POLICY_OID}
other_policies = {OTHER_POLICY_OID}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass(frozen=True)
class Pki:
    """A root CA and a TSA certificate it issued, with the TSA's key."""

    ca_certificate: x509.Certificate
    tsa_certificate: x509.Certificate
    tsa_key: ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Notarium Fake TSA"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, sign_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign_certificates,
        content_commitment=not sign_certificates,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certificates,
        crl_sign=sign_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def make_pki(label: str = "Fake") -> Pki:
    """A CA and a TSA certificate fit for RFC 3161: sole, critical timeStamping EKU."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca_name = _name(f"{label} Root CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA384())
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{label} TSA"))
        .issuer_name(ca_name)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA384())
    )
    return Pki(ca, tsa, tsa_key)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _with_imprint(query: bytes, algorithm: str, digest: bytes) -> bytes:
    request = tsp.TimeStampReq.load(query)
    fields = {
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": digest},
        "nonce": request["nonce"].native,
        "cert_req": request["cert_req"].native,
    }
    if request["req_policy"].native is not None:
        fields["req_policy"] = request["req_policy"].dotted
    return bytes(tsp.TimeStampReq(fields).dump())


def _flip_signature_byte(reply: bytes) -> bytes:
    token = TimeStampResp.load(reply)["time_stamp_token"]
    signature: bytes = token["content"]["signer_infos"][0]["signature"].native
    at = reply.find(signature)
    assert at > 0 and reply.count(signature) == 1, "signature not found in the reply"
    # The last byte lies inside the ECDSA s value, so the DER shape survives.
    index = at + len(signature) - 1
    return reply[:index] + bytes([reply[index] ^ 0x01]) + reply[index + 1 :]


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    content_type: str = REPLY_TYPE
    send_length: bool = True


class OpenSslTsa:
    """``with OpenSslTsa() as tsa:`` serves ``POST tsa.url`` until the block ends."""

    def __init__(self, pki: Pki | None = None, *, openssl: str | None = None) -> None:
        found = openssl or shutil.which("openssl")
        if found is None:
            raise RuntimeError("the OpenSSL command-line tool is not installed")
        self._openssl = found
        self._pki = pki or make_pki()
        self._lock = threading.Lock()
        self._failures = 0
        self._tamper = False
        self._reject = False
        self._wrong_imprint = False
        self._raw: _Answer | None = None
        self._queries: list[bytes] = []
        self._count = 0
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- identity -------------------------------------------------------------------

    @property
    def ca_certificate(self) -> x509.Certificate:
        return self._pki.ca_certificate

    @property
    def tsa_certificate(self) -> x509.Certificate:
        return self._pki.tsa_certificate

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake TSA is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"

    @property
    def directory(self) -> Path:
        """Holds ``ca.pem`` and ``tsa.pem``, for ``openssl ts -verify``."""
        if self._workdir is None:
            raise RuntimeError("the fake TSA is not running")
        return Path(self._workdir.name)

    @property
    def queries(self) -> list[bytes]:
        """Every TimeStampReq received, as sent by the client."""
        with self._lock:
            return list(self._queries)

    # -- knobs ----------------------------------------------------------------------

    def fail_next(self, n: int = 1) -> None:
        """Answer the next ``n`` requests with HTTP 500."""
        with self._lock:
            self._failures += n

    def tamper_next(self) -> None:
        """Flip a byte inside the CMS signature of the next reply."""
        with self._lock:
            self._tamper = True

    def reject_next(self) -> None:
        """Let OpenSSL reject the next request (it is re-sent with a SHA-1 imprint)."""
        with self._lock:
            self._reject = True

    def wrong_imprint_next(self) -> None:
        """Sign the next token, correctly, over a digest other than the one asked for."""
        with self._lock:
            self._wrong_imprint = True

    def raw_next(
        self,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = REPLY_TYPE,
        send_length: bool = True,
    ) -> None:
        """Answer the next request with ``body`` verbatim; without a Content-Length
        header when ``send_length`` is false (the body then ends at connection close)."""
        with self._lock:
            self._raw = _Answer(status, body, content_type, send_length)

    # -- lifecycle ------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._workdir = tempfile.TemporaryDirectory(prefix="openssl-tsa-")
        directory = Path(self._workdir.name)
        (directory / "ca.pem").write_bytes(_pem(self._pki.ca_certificate))
        (directory / "tsa.pem").write_bytes(_pem(self._pki.tsa_certificate))
        key = directory / "tsa.key"
        key.touch(mode=0o600)
        key.write_bytes(
            self._pki.tsa_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (directory / "tsa.cnf").write_text(_CONFIG)
        (directory / "serial").write_text("01\n")
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self._answer))
        self._server.daemon_threads = True
        # A short poll interval keeps shutdown, and so every test's teardown, quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="openssl-tsa", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._workdir is not None:
            self._workdir.cleanup()
        self._server = self._thread = self._workdir = None

    # -- serving --------------------------------------------------------------------

    def _answer(self, path: str, content_type: str, query: bytes) -> _Answer:
        if path != PATH:
            return _Answer(404, b"not found", "text/plain")
        if content_type.split(";")[0].strip().lower() != QUERY_TYPE:
            return _Answer(415, b"expected application/timestamp-query", "text/plain")
        with self._lock:
            self._queries.append(query)
            if self._failures:
                self._failures -= 1
                return _Answer(500, b"internal error", "text/plain")
            raw, self._raw = self._raw, None
            if raw is not None:
                return raw
            tamper, self._tamper = self._tamper, False
            reject, self._reject = self._reject, False
            wrong, self._wrong_imprint = self._wrong_imprint, False
            self._count += 1
            n = self._count
            try:
                digest = tsp.TimeStampReq.load(query)["message_imprint"]["hashed_message"].native
                if reject:
                    query = _with_imprint(query, "sha1", hashlib.sha1(digest).digest())  # noqa: S324
                elif wrong:
                    query = _with_imprint(
                        query, "sha256", hashlib.sha256(b"other" + digest).digest()
                    )
            except ValueError:
                pass  # Unparseable queries go to OpenSSL unchanged; it rejects them.
            reply = self._openssl_reply(n, query)
        if tamper:
            reply = _flip_signature_byte(reply)
        return _Answer(200, reply)

    def _openssl_reply(self, n: int, query: bytes) -> bytes:
        directory = self.directory
        (directory / f"q{n}.tsq").write_bytes(query)
        result = subprocess.run(
            [
                self._openssl, "ts", "-reply", "-queryfile", f"q{n}.tsq",
                "-signer", "tsa.pem", "-inkey", "tsa.key", "-chain", "ca.pem",
                "-config", "tsa.cnf", "-out", f"r{n}.tsr",
            ],
            cwd=directory,
            capture_output=True,
            check=False,
            timeout=60,
        )  # fmt: skip
        reply = directory / f"r{n}.tsr"
        if result.returncode != 0 or not reply.exists():
            raise RuntimeError(
                f"openssl ts -reply failed: {result.stderr.decode(errors='replace')}"
            )
        return reply.read_bytes()


def _handler(answer: Callable[[str, str, bytes], _Answer]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit() or int(length) > MAX_QUERY:
                self._send(_Answer(411, b"a Content-Length up to 64 KiB is required", "text/plain"))
                return
            query = self.rfile.read(int(length))
            try:
                result = answer(self.path, self.headers.get("Content-Type", ""), query)
            except Exception as exc:
                result = _Answer(500, str(exc).encode(), "text/plain")
            self._send(result)

        def _send(self, result: _Answer) -> None:
            self.send_response(result.status)
            self.send_header("Content-Type", result.content_type)
            if result.send_length:
                self.send_header("Content-Length", str(len(result.body)))
            else:
                self.close_connection = True
            self.end_headers()
            # Clients that refuse an oversized reply hang up part-way through it.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(result.body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # Test output stays readable; failures surface through the client.

    return Handler
