"""pyHanko's HTTPTimeStamper, a client we did not write, against the real server."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext
from server import Server, server_env

from notarium.adapters.pki.keystore import KeyStore
from notarium.formats.rfc3161.token import parse_timestamp_token, verify_token_signature
from notarium.ledger.tsa.stamper import HttpStamper

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "data", server_env(tmp_path / "data"))
    srv.start()
    yield srv
    srv.stop()


def test_http_timestamper_gets_a_valid_token(server: Server, tmp_path: Path) -> None:
    digest = hashlib.sha256(b"sealed agreement").digest()
    ca = _der_certificate(server.data_dir / "keys" / "ca.cert.pem")
    stranger = KeyStore(tmp_path / "stranger")
    stranger.ensure()
    other_ca = _der_certificate(stranger.path("ca.cert.pem"))

    async def run(root: asn1_x509.Certificate) -> dict[str, object]:
        stamper = HTTPTimeStamper(f"{server.url}/tsa", timeout=10)
        token = await stamper.async_timestamp(digest, "sha256")
        context = ValidationContext(trust_roots=[root])
        return await validate_tst_signed_data(token["content"], context, lambda _alg: digest)

    status = asyncio.run(run(ca))
    assert status["intact"] and status["valid"]
    assert status["trust_problem_indic"] is None and status["validation_path"] is not None
    assert status["timestamp"] is not None and status["md_algorithm"] == "sha256"

    untrusted = asyncio.run(run(other_ca))
    assert untrusted["intact"] and untrusted["trust_problem_indic"] is not None


def _der_certificate(path: Path) -> asn1_x509.Certificate:
    pem = x509.load_pem_x509_certificate(path.read_bytes())
    return asn1_x509.Certificate.load(pem.public_bytes(serialization.Encoding.DER))


def test_the_http_stamper_gets_a_token_chaining_to_the_servers_ca(server: Server) -> None:
    digest = hashlib.sha256(b"sealed agreement").digest()
    issued = HttpStamper(f"{server.url}/tsa", timeout=30).stamp(digest)
    token = parse_timestamp_token(issued.der)
    assert token.imprint == digest and issued.serial == token.serial_number
    ca = x509.load_pem_x509_certificate((server.data_dir / "keys" / "ca.cert.pem").read_bytes())
    signer = verify_token_signature(token)
    signer.verify_directly_issued_by(ca)
