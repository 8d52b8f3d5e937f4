"""A token signer whose key and certificates come from PEM files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notarium.ledger.tsa.errors import TsaConfigurationError

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class FileTokenSigner:
    """Signs with an in-process ECDSA key.

    The key/certificate pairing is checked up front: a mismatch would otherwise only
    surface when a relying party fails to verify a token that was already handed out.
    """

    __slots__ = ("_certificate", "_chain", "_key")

    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise TsaConfigurationError("the TSA signing key must be an ECDSA key")
        if certificate.public_key() != private_key.public_key():
            raise TsaConfigurationError("the TSA certificate does not match the signing key")
        self._key = private_key
        self._certificate = certificate
        self._chain = tuple(chain)

    @classmethod
    def from_pem(
        cls,
        key_pem: bytes,
        certificate_pem: bytes,
        chain_pem: bytes = b"",
        *,
        password: bytes | None = None,
    ) -> FileTokenSigner:
        try:
            key = serialization.load_pem_private_key(key_pem, password=password)
            certificate = x509.load_pem_x509_certificate(certificate_pem)
            chain = x509.load_pem_x509_certificates(chain_pem) if chain_pem.strip() else []
        except (ValueError, TypeError) as exc:
            raise TsaConfigurationError(f"unreadable TSA key material: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TsaConfigurationError("the TSA signing key must be an ECDSA key")
        return cls(key, certificate, chain)

    @classmethod
    def from_files(
        cls,
        key_path: Path,
        certificate_path: Path,
        chain_path: Path | None = None,
        *,
        password: bytes | None = None,
    ) -> FileTokenSigner:
        try:
            key_pem = key_path.read_bytes()
            certificate_pem = certificate_path.read_bytes()
            chain_pem = chain_path.read_bytes() if chain_path is not None else b""
        except OSError as exc:
            raise TsaConfigurationError(f"cannot read TSA key material: {exc}") from exc
        return cls.from_pem(key_pem, certificate_pem, chain_pem, password=password)

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> Sequence[x509.Certificate]:
        return self._chain

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, _ECDSA_SHA256)
