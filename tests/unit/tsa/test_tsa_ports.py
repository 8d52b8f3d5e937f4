"""The real and fake adapters satisfy the ports, checked at runtime and by mypy."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from notarium.adapters.pki.keystore import KeyStore
from notarium.core.errors import ConfigurationError
from notarium.ledger.tsa.errors import TsaConfigurationError
from notarium.ledger.tsa.fakes import CountingSerialSource, FailingTokenSigner
from notarium.ledger.tsa.file_signer import FileTokenSigner
from notarium.ledger.tsa.ports import SerialSource, TokenSigner


def _file_signer(keystore: KeyStore) -> FileTokenSigner:
    return FileTokenSigner.from_files(
        keystore.path("tsa.key.pem"), keystore.path("tsa.cert.pem"), keystore.path("ca.cert.pem")
    )


def test_adapters_satisfy_the_ports(keystore: KeyStore) -> None:
    # The annotated assignments are the static check: mypy --strict rejects them if an
    # adapter drifts from its Protocol.
    file_signer: TokenSigner = _file_signer(keystore)
    failing: TokenSigner = FailingTokenSigner(file_signer)
    counting: SerialSource = CountingSerialSource()
    assert isinstance(file_signer, TokenSigner)
    assert isinstance(failing, TokenSigner)
    assert isinstance(FileTokenSigner.from_files(*keystore.tsa_key_paths()), TokenSigner)
    assert isinstance(counting, SerialSource)
    assert not isinstance(object(), TokenSigner)
    assert not isinstance(object(), SerialSource)


def test_file_signer_signs_ecdsa_sha256(keystore: KeyStore) -> None:
    signer = _file_signer(keystore)
    signature = signer.sign(b"payload")
    public_key = signer.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, b"payload", ec.ECDSA(hashes.SHA256()))
    assert [c.subject for c in signer.chain] == [keystore.ca_certificate().subject]
    assert signer.certificate == keystore.tsa_certificate()


def test_file_signer_from_pem_without_chain(keystore: KeyStore) -> None:
    signer = FileTokenSigner.from_pem(
        keystore.path("tsa.key.pem").read_bytes(), keystore.path("tsa.cert.pem").read_bytes()
    )
    assert signer.chain == ()


def test_file_signer_refuses_a_certificate_for_another_key(keystore: KeyStore) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(TsaConfigurationError) as caught:
        FileTokenSigner(other, keystore.tsa_certificate())
    assert isinstance(caught.value, ConfigurationError)


def test_file_signer_refuses_non_ecdsa_keys(keystore: KeyStore) -> None:
    ed_pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(TsaConfigurationError):
        FileTokenSigner.from_pem(ed_pem, keystore.path("tsa.cert.pem").read_bytes())


def test_file_signer_reports_unreadable_material(keystore: KeyStore, tmp_path: Path) -> None:
    with pytest.raises(TsaConfigurationError):
        FileTokenSigner.from_pem(b"not pem", keystore.path("tsa.cert.pem").read_bytes())
    with pytest.raises(TsaConfigurationError):
        FileTokenSigner.from_files(tmp_path / "missing.pem", keystore.path("tsa.cert.pem"))


def test_counting_serial_source_is_monotonic() -> None:
    serials = CountingSerialSource(10)
    assert [serials.next_serial() for _ in range(5)] == [10, 11, 12, 13, 14]
    assert CountingSerialSource().next_serial() == 1
    with pytest.raises(ValueError, match="positive"):
        CountingSerialSource(0)


def test_failing_signer_exposes_inner_certificates(keystore: KeyStore) -> None:
    inner = FileTokenSigner.from_files(*keystore.tsa_key_paths())
    failing = FailingTokenSigner(inner)
    assert failing.certificate == inner.certificate
    assert list(failing.chain) == list(inner.chain)
    assert isinstance(failing.certificate, x509.Certificate)
    with pytest.raises(RuntimeError):
        failing.sign(b"x")
