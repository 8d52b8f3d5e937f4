"""An external RFC 3161 TSA as an anchor, against OpenSSL's TSA and notarium's own."""

from __future__ import annotations

import hashlib
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from fakes.openssl_tsa import OTHER_POLICY_OID, POLICY_OID, OpenSslTsa, Pki, make_pki
from integration.openssl import verify as openssl_verify
from notarium.adapters.pki.keystore import KeyStore
from notarium.core.clock import SystemClock
from notarium.core.errors import ProofVerificationError
from notarium.formats.errors import (
    ChainValidationError,
    MalformedProofError,
    TokenBindingError,
    TokenSignatureError,
)
from notarium.formats.rfc3161.external import verify_external_token
from notarium.formats.rfc3161.reply import granted_response
from notarium.formats.rfc3161.token import parse_timestamp_token
from notarium.ledger.anchoring.external_tsa import (
    MAX_RESPONSE_SIZE,
    ExternalTsaAnchor,
    ExternalTsaConfigurationError,
    InvalidAnchorRootError,
)
from notarium.ledger.anchoring.ports import Anchor, AnchorState, AnchorUnavailable
from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.ledger.tsa.fakes import CountingSerialSource
from notarium.ledger.tsa.file_signer import FileTokenSigner

ROOT = hashlib.sha256(b"batch root").digest()

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="the fake TSA runs the OpenSSL command-line tool"
)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki("Anchor Test")


@pytest.fixture
def tsa(pki: Pki) -> Iterator[OpenSslTsa]:
    with OpenSslTsa(pki) as server:
        yield server


@pytest.fixture
def anchor(tsa: OpenSslTsa) -> ExternalTsaAnchor:
    return ExternalTsaAnchor(tsa.url, [tsa.ca_certificate])


def refused(anchor: ExternalTsaAnchor) -> str:
    with pytest.raises(AnchorUnavailable) as caught:
        anchor.submit(ROOT)
    assert caught.value.code == "OTS_PROVIDER_ERROR"
    assert anchor.url in caught.value.message
    return caught.value.message


def flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


# -- accepted tokens ------------------------------------------------------------------


def test_openssl_token_is_accepted_and_complete(
    tsa: OpenSslTsa, anchor: ExternalTsaAnchor, tmp_path: Path
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    state = anchor.submit(ROOT)

    assert state.complete
    assert (state.bitcoin_txid, state.bitcoin_height, state.bitcoin_block_time) == (None,) * 3
    token = parse_timestamp_token(state.payload)
    assert token.imprint_algorithm == "sha256"
    assert token.imprint == ROOT
    assert token.policy == POLICY_OID
    assert before - timedelta(seconds=2) <= token.gen_time <= datetime.now(UTC)

    # OpenSSL, not only our own verifier, accepts the stored payload for this root.
    token_file = tmp_path / "token.der"
    token_file.write_bytes(state.payload)
    ok, output = openssl_verify(
        token_file, tsa.directory / "ca.pem", "-token_in", "-digest", ROOT.hex()
    )
    assert ok, output


def test_the_request_is_a_sha256_query_for_the_root_with_nonce_and_cert_req(
    tsa: OpenSslTsa, anchor: ExternalTsaAnchor
) -> None:
    state = anchor.submit(ROOT)
    anchor.submit(ROOT)

    first, second = (tsp.TimeStampReq.load(q) for q in tsa.queries)
    assert first["version"].native == "v1"
    assert first["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert first["message_imprint"]["hashed_message"].native == ROOT
    assert first["cert_req"].native is True
    assert first["req_policy"].native is None
    assert first["nonce"].native is not None
    assert first["nonce"].native != second["nonce"].native
    assert parse_timestamp_token(state.payload).nonce == first["nonce"].native


def test_verify_external_token_returns_gen_time_of_the_stored_payload(
    tsa: OpenSslTsa, anchor: ExternalTsaAnchor
) -> None:
    state = anchor.submit(ROOT)
    gen_time = verify_external_token(state.payload, ROOT, [tsa.ca_certificate])
    assert gen_time == parse_timestamp_token(state.payload).gen_time


def test_identity_protocol_and_upgrade(tsa: OpenSslTsa, anchor: ExternalTsaAnchor) -> None:
    assert isinstance(anchor, Anchor)
    assert anchor.kind == "rfc3161"
    assert anchor.name == f"rfc3161:{tsa.url}"
    state = AnchorState(payload=b"token", complete=True)
    assert anchor.upgrade(ROOT, state) is state
    assert tsa.queries == []


def test_a_requested_policy_is_sent_and_checked(tsa: OpenSslTsa) -> None:
    anchor = ExternalTsaAnchor(tsa.url, [tsa.ca_certificate], policy_oid=OTHER_POLICY_OID)
    state = anchor.submit(ROOT)
    assert parse_timestamp_token(state.payload).policy == OTHER_POLICY_OID
    assert tsp.TimeStampReq.load(tsa.queries[0])["req_policy"].dotted == OTHER_POLICY_OID


@pytest.mark.parametrize("algorithm", ["sha384", "sha512"])
def test_longer_imprints_stamp_the_hash_of_the_root(tsa: OpenSslTsa, algorithm: str) -> None:
    anchor = ExternalTsaAnchor(tsa.url, [tsa.ca_certificate], hash_algorithm=algorithm)
    state = anchor.submit(ROOT)
    token = parse_timestamp_token(state.payload)
    assert token.imprint_algorithm == algorithm
    assert token.imprint == hashlib.new(algorithm, ROOT).digest()
    assert verify_external_token(state.payload, ROOT, [tsa.ca_certificate]) == token.gen_time
    with pytest.raises(TokenBindingError):
        verify_external_token(state.payload, bytes(32), [tsa.ca_certificate])


def test_a_transient_failure_does_not_stick(tsa: OpenSslTsa, anchor: ExternalTsaAnchor) -> None:
    tsa.fail_next(2)
    assert "HTTP 500" in refused(anchor)
    assert "HTTP 500" in refused(anchor)
    assert anchor.submit(ROOT).complete


# -- refusals -------------------------------------------------------------------------


def test_tampered_signature(tsa: OpenSslTsa, anchor: ExternalTsaAnchor) -> None:
    tsa.tamper_next()
    message = refused(anchor)
    assert "failed verification" in message
    assert "CMS signature of the time-stamp token does not verify" in message


def test_token_for_another_digest(tsa: OpenSslTsa, anchor: ExternalTsaAnchor) -> None:
    tsa.wrong_imprint_next()
    message = refused(anchor)
    assert f"not the anchored root {ROOT.hex()}" in message


def test_tsa_outside_the_trust_roots(tsa: OpenSslTsa) -> None:
    stranger = make_pki("Stranger").ca_certificate
    message = refused(ExternalTsaAnchor(tsa.url, [stranger]))
    assert "does not chain to a trusted root" in message
    assert "Anchor Test TSA" in message


def test_rejection_reports_status_text_and_fail_info(
    tsa: OpenSslTsa, anchor: ExternalTsaAnchor
) -> None:
    tsa.reject_next()
    message = refused(anchor)
    assert "refused the request with status rejection" in message
    assert "Message digest algorithm is not supported" in message
    assert "failInfo badAlg" in message


def test_unoffered_policy_is_rejected(tsa: OpenSslTsa) -> None:
    message = refused(ExternalTsaAnchor(tsa.url, [tsa.ca_certificate], policy_oid="1.2.3.4"))
    assert "status rejection" in message
    assert "failInfo unacceptedPolicy" in message


def test_http_500(tsa: OpenSslTsa, anchor: ExternalTsaAnchor) -> None:
    tsa.fail_next()
    assert "answered HTTP 500 Internal Server Error" in refused(anchor)


def test_body_that_is_not_a_timestamp_response(tsa: OpenSslTsa, anchor: ExternalTsaAnchor) -> None:
    tsa.raw_next(b"<html>maintenance</html>", content_type="text/html")
    message = refused(anchor)
    assert "not an RFC 3161 TimeStampResp" in message
    assert "24 bytes" in message


def test_granted_status_without_a_token(tsa: OpenSslTsa, anchor: ExternalTsaAnchor) -> None:
    tsa.raw_next(bytes.fromhex("3005") + bytes.fromhex("3003020100"))
    assert "granted the request but sent no time-stamp token" in refused(anchor)


@pytest.mark.parametrize("send_length", [True, False], ids=["content-length", "streamed"])
def test_oversized_reply(tsa: OpenSslTsa, anchor: ExternalTsaAnchor, send_length: bool) -> None:
    tsa.raw_next(b"\x30" * (MAX_RESPONSE_SIZE + 1), send_length=send_length)
    assert f"than the {MAX_RESPONSE_SIZE} bytes allowed" in refused(anchor)


def test_replayed_reply_fails_the_nonce_check(tsa: OpenSslTsa, anchor: ExternalTsaAnchor) -> None:
    # A genuine earlier token for the very same root, as a man in the middle could replay.
    earlier = anchor.submit(ROOT).payload
    tsa.raw_next(granted_response(earlier))
    assert "did not echo the request nonce" in refused(anchor)


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    anchor = ExternalTsaAnchor(f"http://127.0.0.1:{port}/tsr", [make_pki().ca_certificate])
    message = refused(anchor)
    assert "could not be reached: ConnectError" in message


def test_timeout() -> None:
    # A listening socket that never accepts: the handshake completes, no answer comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        anchor = ExternalTsaAnchor(
            f"http://127.0.0.1:{port}/tsr", [make_pki().ca_certificate], timeout=0.3
        )
        assert "did not answer within 0.3 s" in refused(anchor)


# -- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kwargs"),
    [
        ("ftp://tsa.example/", {}),
        ("tsa.example/tsr", {}),
        ("http://tsa.example/tsr", {"hash_algorithm": "sha1"}),
        ("http://tsa.example/tsr", {"timeout": 0}),
        ("http://tsa.example/tsr", {"policy_oid": "not an oid"}),
    ],
)
def test_bad_configuration(pki: Pki, url: str, kwargs: dict[str, object]) -> None:
    with pytest.raises(ExternalTsaConfigurationError):
        ExternalTsaAnchor(url, [pki.ca_certificate], **kwargs)  # type: ignore[arg-type]


def test_no_trust_roots() -> None:
    with pytest.raises(ExternalTsaConfigurationError, match="no trust roots"):
        ExternalTsaAnchor("http://tsa.example/tsr", [])


def test_root_must_be_32_bytes(anchor: ExternalTsaAnchor, tsa: OpenSslTsa) -> None:
    with pytest.raises(InvalidAnchorRootError):
        anchor.submit(ROOT[:31])
    assert tsa.queries == []


# -- offline verification -------------------------------------------------------------


@pytest.fixture
def payload(anchor: ExternalTsaAnchor) -> bytes:
    return anchor.submit(ROOT).payload


def _offset_of(haystack: bytes, needle: bytes) -> int:
    at = haystack.find(needle)
    assert at >= 0
    return at + len(needle) // 2


def test_verify_refuses_a_flipped_signature_byte(payload: bytes, tsa: OpenSslTsa) -> None:
    signed_data = parse_timestamp_token(payload)._signed_data
    signature = signed_data["signer_infos"][0]["signature"].native
    with pytest.raises(TokenSignatureError):
        verify_external_token(
            flip(payload, _offset_of(payload, signature)), ROOT, [tsa.ca_certificate]
        )


def test_verify_refuses_a_flipped_imprint_byte(payload: bytes, tsa: OpenSslTsa) -> None:
    with pytest.raises(TokenBindingError):
        verify_external_token(flip(payload, _offset_of(payload, ROOT)), ROOT, [tsa.ca_certificate])


def test_verify_refuses_a_flipped_tst_info_byte(payload: bytes, tsa: OpenSslTsa) -> None:
    # The serial lies inside the signed TSTInfo but is bound to nothing else.
    token = parse_timestamp_token(payload)
    serial = token.serial_number.to_bytes((token.serial_number.bit_length() + 7) // 8, "big")
    tampered = flip(payload, _offset_of(payload, b"\x02" + bytes([len(serial)]) + serial) + 1)
    with pytest.raises(TokenSignatureError, match="messageDigest"):
        verify_external_token(tampered, ROOT, [tsa.ca_certificate])


def test_verify_refuses_a_flipped_certificate_byte(payload: bytes, tsa: OpenSslTsa) -> None:
    tsa_der = tsa.tsa_certificate.public_bytes(Encoding.DER)
    tampered = flip(payload, _offset_of(payload, tsa_der))
    with pytest.raises(ProofVerificationError):
        verify_external_token(tampered, ROOT, [tsa.ca_certificate])


def test_verify_refuses_other_root_untrusted_ca_and_garbage(
    payload: bytes, tsa: OpenSslTsa
) -> None:
    with pytest.raises(TokenBindingError):
        verify_external_token(payload, bytes(32), [tsa.ca_certificate])
    with pytest.raises(ChainValidationError):
        verify_external_token(payload, ROOT, [make_pki("Other").ca_certificate])
    with pytest.raises(MalformedProofError):
        verify_external_token(b"\x30\x03\x02\x01\x00", ROOT, [tsa.ca_certificate])
    with pytest.raises(MalformedProofError):
        verify_external_token(payload, ROOT[:16], [tsa.ca_certificate])


# -- notarium's own TSA through the same client -----------------------------------------


class _BuiltinTsaServer:
    """notarium's TimeStampAuthority behind a bare http.server, for interoperability."""

    def __init__(self, authority: TimeStampAuthority) -> None:
        serials = CountingSerialSource()
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    reply = authority.respond(query, serials)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/tsa"

    def __enter__(self) -> _BuiltinTsaServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def keystore(tmp_path: Path) -> KeyStore:
    store = KeyStore(tmp_path / "keys", "Notarium Interop")
    store.ensure()
    return store


def test_builtin_tsa_interoperates(keystore: KeyStore, tmp_path: Path) -> None:
    authority = TimeStampAuthority(
        FileTokenSigner.from_files(*keystore.tsa_key_paths()),
        policy_oid=POLICY_OID,
        accuracy_ms=1000,
        clock=SystemClock(),
    )
    trust: list[x509.Certificate] = [keystore.ca_certificate()]
    with _BuiltinTsaServer(authority) as server:
        anchor = ExternalTsaAnchor(server.url, trust, policy_oid=POLICY_OID)
        state = anchor.submit(ROOT)
        assert state.complete
        assert verify_external_token(state.payload, ROOT, trust) <= datetime.now(UTC)

        # Our TSA rejects a policy it does not offer; the client reports it precisely.
        other = ExternalTsaAnchor(server.url, trust, policy_oid=OTHER_POLICY_OID)
        with pytest.raises(AnchorUnavailable, match="failInfo unacceptedPolicy"):
            other.submit(ROOT)

    token_file = tmp_path / "token.der"
    token_file.write_bytes(state.payload)
    ok, output = openssl_verify(
        token_file, keystore.path("ca.cert.pem"), "-token_in", "-digest", ROOT.hex()
    )
    assert ok, output


def test_each_tsa_is_trusted_only_through_its_own_root(keystore: KeyStore, tsa: OpenSslTsa) -> None:
    authority = TimeStampAuthority(
        FileTokenSigner.from_files(*keystore.tsa_key_paths()),
        policy_oid=POLICY_OID,
        accuracy_ms=0,
        clock=SystemClock(),
    )
    with _BuiltinTsaServer(authority) as server:
        message = refused(ExternalTsaAnchor(server.url, [tsa.ca_certificate]))
    assert "does not chain to a trusted root" in message
