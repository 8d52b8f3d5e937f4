"""The seal certificate: an ECDSA P-256 leaf under the private CA for PAdES seals.

The profile carries no extended key usage: poppler checks seals through NSS for the
e-mail signer usage, which any EKU lacking emailProtection would fail, and pyHanko only
insists on nonRepudiation. CRL and OCSP locations are mandatory because B-LT and B-LTA
seals can only embed revocation information that a validator can fetch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from notarium.adapters.pki.files import publish_new
from notarium.adapters.pki.generate import CertifiedKey, build_leaf_certificate, common_name
from notarium.adapters.pki.keystore import CA_CERT, CA_KEY, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE
from notarium.core.clock import Clock, SystemClock
from notarium.products.pdf_seal.errors import SealMaterialError

SEAL_KEY: Final = "seal.key.pem"
SEAL_CERT: Final = "seal.cert.pem"
SEAL_VALIDITY: Final = timedelta(days=5 * 365 + 1)
CRL_PATH: Final = "/pki/crl"
OCSP_PATH: Final = "/pki/ocsp"


@dataclass(frozen=True)
class SealMaterial:
    """What the sealer signs with: the seal key, its certificate and the root above."""

    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    ca_certificate: x509.Certificate


def seal_subject(organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name(organisation, " Seal")),
        ]
    )


def revocation_urls(base_url: str) -> tuple[str, str]:
    """The CRL and OCSP URLs published under ``base_url``."""
    base = base_url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise SealMaterialError(f"base_url must be an http(s) URL, got {base_url!r}")
    return base + CRL_PATH, base + OCSP_PATH


def build_seal_certificate(
    public_key: ec.EllipticCurvePublicKey,
    *,
    ca: CertifiedKey,
    now: datetime,
    organisation: str,
    base_url: str,
) -> x509.Certificate:
    """Seal leaf for ``public_key``, never outliving the CA that signs it."""
    crl_url, ocsp_url = revocation_urls(base_url)
    crl_point = x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(crl_url)],
        relative_name=None,
        reasons=None,
        crl_issuer=None,
    )
    ocsp = x509.AccessDescription(
        AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
    )
    return build_leaf_certificate(
        public_key,
        subject=seal_subject(organisation),
        ca=ca,
        now=now,
        validity=SEAL_VALIDITY,
        extensions=[
            (x509.CRLDistributionPoints([crl_point]), False),
            (x509.AuthorityInformationAccess([ocsp]), False),
        ],
    )


def load_ca(keys_dir: Path) -> CertifiedKey:
    """The CA key and certificate the key store wrote; both must match."""
    key = _load_ec_key(Path(keys_dir) / CA_KEY)
    certificate = _load_certificate(Path(keys_dir) / CA_CERT)
    if certificate.public_key() != key.public_key():
        raise SealMaterialError(f"{CA_CERT} does not match {CA_KEY}")
    return CertifiedKey(key, certificate)


def load_seal_material(keys_dir: Path) -> SealMaterial:
    directory = Path(keys_dir)
    key = _load_ec_key(directory / SEAL_KEY)
    certificate = _load_certificate(directory / SEAL_CERT)
    if certificate.public_key() != key.public_key():
        raise SealMaterialError(f"{SEAL_CERT} does not match {SEAL_KEY}")
    return SealMaterial(key, certificate, _load_certificate(directory / CA_CERT))


def ensure_seal_material(
    keys_dir: Path,
    *,
    organisation: str,
    base_url: str,
    clock: Clock | None = None,
) -> SealMaterial:
    """Create the seal key and certificate if missing, then load them.

    Existing files are never replaced: a new seal certificate would not invalidate
    earlier seals, but a replaced key would orphan a certificate already published.
    The CA key is read only when a certificate must be issued.
    """
    directory = Path(keys_dir)
    key_path, cert_path = directory / SEAL_KEY, directory / SEAL_CERT
    if cert_path.exists() and not key_path.exists():
        raise SealMaterialError(f"{SEAL_CERT} exists without {SEAL_KEY}; refusing to replace")
    if not cert_path.exists():
        revocation_urls(base_url)
        if not key_path.exists():
            pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            _publish(key_path, pem, PRIVATE_FILE_MODE)
        now = (clock if clock is not None else SystemClock()).now()
        certificate = build_seal_certificate(
            _load_ec_key(key_path).public_key(),
            ca=load_ca(directory),
            now=now,
            organisation=organisation,
            base_url=base_url,
        )
        _publish(cert_path, certificate.public_bytes(serialization.Encoding.PEM), PUBLIC_FILE_MODE)
    return load_seal_material(directory)


def _publish(final: Path, data: bytes, mode: int) -> bool:
    try:
        return publish_new(final, data, mode)
    except OSError as exc:
        raise SealMaterialError(f"cannot write {final}: {exc}") from exc


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SealMaterialError(f"cannot read {path}: {exc}") from exc


def _load_ec_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path), None)
    except (ValueError, TypeError) as exc:
        raise SealMaterialError(f"{path} is not a valid PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SealMaterialError(f"{path} is not an ECDSA private key")
    return key


def _load_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(_read(path))
    except ValueError as exc:
        raise SealMaterialError(f"{path} is not a valid PEM certificate") from exc
