"""The seal certificate profile and the CA's CRL and OCSP answers."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from notarium.adapters.pki.generate import CertifiedKey, generate_ca
from notarium.adapters.pki.keystore import KeyStore
from notarium.products.pdf_seal.errors import SealMaterialError
from notarium.products.pdf_seal.material import (
    SEAL_CERT,
    SEAL_KEY,
    SealMaterial,
    ensure_seal_material,
)
from notarium.products.pdf_seal.revocation import build_crl, build_ocsp_response

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_seal_certificate_profile(material: SealMaterial, keystore: KeyStore) -> None:
    cert = material.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Notarium Test Seal"
    assert cert.issuer == material.ca_certificate.subject
    key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert key_usage.critical
    assert key_usage.value.digital_signature and key_usage.value.content_commitment
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    crl_dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert crl_dp[0].full_name is not None
    assert str(crl_dp[0].full_name[0].value).endswith("/pki/crl")
    (access,) = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert access.access_method == AuthorityInformationAccessOID.OCSP
    assert str(access.access_location.value).endswith("/pki/ocsp")
    assert stat.S_IMODE(keystore.path(SEAL_KEY).stat().st_mode) == 0o600


def test_existing_seal_material_is_never_replaced(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys", "Acme")
    store.ensure()
    first = ensure_seal_material(store.keys_dir, organisation="Acme", base_url="http://x.test")
    key_pem = store.path(SEAL_KEY).read_bytes()
    again = ensure_seal_material(store.keys_dir, organisation="Other", base_url="http://y.test")
    assert again.certificate == first.certificate
    assert store.path(SEAL_KEY).read_bytes() == key_pem


def test_certificate_without_key_is_refused(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys", "Acme")
    store.ensure()
    ensure_seal_material(store.keys_dir, organisation="Acme", base_url="http://x.test")
    store.path(SEAL_KEY).unlink()
    with pytest.raises(SealMaterialError):
        ensure_seal_material(store.keys_dir, organisation="Acme", base_url="http://x.test")
    assert store.path(SEAL_CERT).exists()


def test_base_url_must_be_http(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys", "Acme")
    store.ensure()
    with pytest.raises(SealMaterialError):
        ensure_seal_material(store.keys_dir, organisation="Acme", base_url="ftp://x.test")
    assert not store.path(SEAL_KEY).exists()


def test_crl_is_signed_by_the_ca_and_lists_revoked_serials(ca: CertifiedKey) -> None:
    crl = x509.load_der_x509_crl(build_crl(ca, now=NOW, crl_number=7, revoked={42: NOW}))
    assert crl.is_signature_valid(ca.certificate.public_key())
    assert crl.get_revoked_certificate_by_serial_number(42) is not None
    assert crl.get_revoked_certificate_by_serial_number(43) is None
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7


def _request(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256())
    return (
        builder.add_extension(x509.OCSPNonce(b"n" * 16), critical=False)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )


def test_ocsp_answers_good_and_revoked(ca: CertifiedKey, material: SealMaterial) -> None:
    request = _request(material.certificate, ca.certificate)
    good = ocsp.load_der_ocsp_response(build_ocsp_response(request, ca, now=NOW))
    assert good.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert good.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert good.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n" * 16
    public_key = ca.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert good.signature_hash_algorithm is not None
    public_key.verify(
        good.signature, good.tbs_response_bytes, ec.ECDSA(good.signature_hash_algorithm)
    )
    revoked = ocsp.load_der_ocsp_response(
        build_ocsp_response(request, ca, now=NOW, revoked={material.certificate.serial_number: NOW})
    )
    assert revoked.certificate_status == ocsp.OCSPCertStatus.REVOKED


def test_ocsp_refuses_garbage_and_foreign_issuers(ca: CertifiedKey, material: SealMaterial) -> None:
    malformed = ocsp.load_der_ocsp_response(build_ocsp_response(b"junk", ca, now=NOW))
    assert malformed.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    other = generate_ca(now=NOW, organisation="Other")
    request = _request(material.certificate, other.certificate)
    foreign = ocsp.load_der_ocsp_response(build_ocsp_response(request, ca, now=NOW))
    assert foreign.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED
