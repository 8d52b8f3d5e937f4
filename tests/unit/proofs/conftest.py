from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from notarium.core.hashing import sha256_bytes
from notarium.formats.bundle import RecordFacts, build_bundle
from notarium.formats.signing import Ed25519RecordSigner

from .tokenfactory import Issued, OpenSSLTsa, make_ca, make_tsa

DOCUMENT = b"The quick brown fox jumps over the lazy dog.\n"


@pytest.fixture(scope="session", autouse=True)
def _require_openssl() -> None:
    # scripts/system-deps.sh installs it; without it these tests would prove nothing.
    if shutil.which("openssl") is None:
        pytest.fail("OpenSSL is needed to issue reference RFC 3161 tokens")


@pytest.fixture(scope="session")
def ca() -> Issued:
    return make_ca()


@pytest.fixture(scope="session")
def tsa(ca: Issued) -> Issued:
    return make_tsa(ca)


@pytest.fixture(scope="session")
def openssl_tsa(tmp_path_factory: pytest.TempPathFactory, ca: Issued, tsa: Issued) -> OpenSSLTsa:
    return OpenSSLTsa(tmp_path_factory.mktemp("openssl-tsa"), ca, tsa)


@pytest.fixture(scope="session")
def make_openssl_tsa(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[Issued, Issued], OpenSSLTsa]:
    def factory(ca: Issued, tsa: Issued) -> OpenSSLTsa:
        return OpenSSLTsa(tmp_path_factory.mktemp("openssl-tsa"), ca, tsa)

    return factory


@pytest.fixture(scope="session")
def signer() -> Ed25519RecordSigner:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    return Ed25519RecordSigner(key, "notary.test")


@pytest.fixture(scope="session")
def other_signer() -> Ed25519RecordSigner:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
    return Ed25519RecordSigner(key, "notary.test")


def facts_for(data: bytes) -> RecordFacts:
    return RecordFacts(
        id="rec_01J9Z8Q4W6V3",
        certificate_id="NTR-2026-000042",
        sha256=sha256_bytes(data),
        filename="contract — final.pdf",
        file_size_bytes=len(data),
        file_type="application/pdf",
        created_at="2026-03-14T15:09:26.535Z",
    )


@pytest.fixture(scope="session")
def good_token(openssl_tsa: OpenSSLTsa) -> bytes:
    return openssl_tsa.issue(DOCUMENT)


@dataclass(frozen=True)
class Good:
    bundle: dict[str, Any]
    token: bytes
    sha256: str


@pytest.fixture(scope="session")
def _good_bundle(
    good_token: bytes, openssl_tsa: OpenSSLTsa, signer: Ed25519RecordSigner
) -> dict[str, Any]:
    return build_bundle(
        facts_for(DOCUMENT),
        token_der=good_token,
        tsa_chain_pem=openssl_tsa.chain_pem,
        signer=signer,
    )


@pytest.fixture
def good(_good_bundle: dict[str, Any], good_token: bytes) -> Good:
    """A valid bundle that each test may mutate freely."""
    return Good(copy.deepcopy(_good_bundle), good_token, sha256_bytes(DOCUMENT))


@pytest.fixture
def document_path(tmp_path: Path) -> Path:
    path = tmp_path / "document.pdf"
    path.write_bytes(DOCUMENT)
    return path
