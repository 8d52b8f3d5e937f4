"""The ``TokenSigner`` contract, for the file signer (its key and certificates from PEM,
in memory and on disk) and the failing fake that wraps it: the certificate is the
signing key's, the chain holds its issuers without it, and a signature is DER ECDSA with
SHA-256 that verifies under the certificate's key. The fake keeps the identity of the
signer it wraps and fails only when asked to sign, as a lost signing device does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from fakes.openssl_tsa import Pki, make_pki
from notarium.ledger.tsa.fakes import FailingTokenSigner
from notarium.ledger.tsa.file_signer import FileTokenSigner
from notarium.ledger.tsa.ports import TokenSigner

PEM = serialization.Encoding.PEM


def _key_pem(pki: Pki) -> bytes:
    return pki.tsa_key.private_bytes(
        PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _from_pem(pki: Pki, _: Path) -> TokenSigner:
    return FileTokenSigner.from_pem(
        _key_pem(pki), pki.tsa_certificate.public_bytes(PEM), pki.ca_certificate.public_bytes(PEM)
    )


def _from_files(pki: Pki, directory: Path) -> TokenSigner:
    key, certificate, chain = (directory / n for n in ("tsa.key", "tsa.pem", "chain.pem"))
    key.write_bytes(_key_pem(pki))
    certificate.write_bytes(pki.tsa_certificate.public_bytes(PEM))
    chain.write_bytes(pki.ca_certificate.public_bytes(PEM))
    return FileTokenSigner.from_files(key, certificate, chain)


def _failing(pki: Pki, directory: Path) -> TokenSigner:
    return FailingTokenSigner(_from_pem(pki, directory))


Make = Callable[[Pki, Path], TokenSigner]
SIGNING: dict[str, Make] = {"pem": _from_pem, "files": _from_files}
ALL: dict[str, Make] = {**SIGNING, "failing": _failing}


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki("Signer Contract")


@pytest.fixture(params=list(ALL.values()), ids=list(ALL))
def any_signer(request: pytest.FixtureRequest, pki: Pki, tmp_path: Path) -> TokenSigner:
    make: Make = request.param
    return make(pki, tmp_path)


@pytest.fixture(params=list(SIGNING.values()), ids=list(SIGNING))
def signer(request: pytest.FixtureRequest, pki: Pki, tmp_path: Path) -> TokenSigner:
    make: Make = request.param
    return make(pki, tmp_path)


def test_it_satisfies_the_protocol(any_signer: TokenSigner) -> None:
    assert isinstance(any_signer, TokenSigner)


def test_the_certificate_is_the_tsa_leaf_and_the_chain_its_issuers(
    any_signer: TokenSigner, pki: Pki
) -> None:
    assert any_signer.certificate == pki.tsa_certificate
    assert list(any_signer.chain) == [pki.ca_certificate]
    assert any_signer.certificate not in any_signer.chain
    assert any_signer.chain[0].subject == any_signer.certificate.issuer


def test_a_signature_is_der_ecdsa_sha256_under_the_certificate_key(signer: TokenSigner) -> None:
    data = b"signed attributes of one token"
    signature = signer.sign(data)
    r, s = decode_dss_signature(signature)  # DER, or this raises
    assert r > 0 and s > 0
    public_key = signer.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public_key.verify(signature, data + b"!", ec.ECDSA(hashes.SHA256()))


def test_the_failing_fake_fails_only_when_signing(pki: Pki, tmp_path: Path) -> None:
    fake = _failing(pki, tmp_path)
    assert fake.certificate == pki.tsa_certificate
    with pytest.raises(RuntimeError):
        fake.sign(b"anything")
