"""The key store creates material once, with private permissions, and never replaces it."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from notarium.adapters.pki.errors import InconsistentKeyMaterialError, KeyMaterialMissingError
from notarium.adapters.pki.generate import generate_ca
from notarium.adapters.pki.keystore import (
    CA_CERT,
    CA_KEY,
    SIGNING_KEY,
    SIGNING_PUB,
    TSA_CERT,
    TSA_KEY,
    KeyStore,
)
from notarium.core.clock import FrozenClock
from notarium.core.errors import ConfigurationError
from notarium.ledger.tsa.file_signer import FileTokenSigner
from notarium.ledger.tsa.ports import TokenSigner

ALL_FILES = (CA_KEY, CA_CERT, TSA_KEY, TSA_CERT, SIGNING_KEY, SIGNING_PUB)
PRIVATE_FILES = (CA_KEY, TSA_KEY, SIGNING_KEY)


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable unless modes are set explicitly."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def snapshot(directory: Path) -> dict[str, tuple[int, bytes, int]]:
    return {
        path.name: (path.stat().st_mtime_ns, path.read_bytes(), path.stat().st_ino)
        for path in sorted(directory.iterdir())
    }


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ensure_creates_the_documented_layout(keys_dir: Path) -> None:
    assert KeyStore(keys_dir).ensure() is True
    assert sorted(p.name for p in keys_dir.iterdir()) == sorted(ALL_FILES)


@pytest.mark.usefixtures("permissive_umask")
def test_private_files_and_directory_are_private(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    assert mode_of(keys_dir) == 0o700
    for name in PRIVATE_FILES:
        assert mode_of(keys_dir / name) == 0o600, name
    for name in (CA_CERT, TSA_CERT, SIGNING_PUB):
        assert mode_of(keys_dir / name) & 0o022 == 0, name


def test_existing_open_directory_is_tightened(keys_dir: Path) -> None:
    keys_dir.mkdir()
    keys_dir.chmod(0o755)
    KeyStore(keys_dir).ensure()
    assert mode_of(keys_dir) == 0o700


def test_strict_umask_still_yields_usable_modes(keys_dir: Path) -> None:
    previous = os.umask(0o277)
    try:
        KeyStore(keys_dir).ensure()
    finally:
        os.umask(previous)
    assert mode_of(keys_dir) == 0o700
    assert mode_of(keys_dir / CA_KEY) == 0o600


def test_second_ensure_changes_nothing(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    before = snapshot(keys_dir)
    assert KeyStore(keys_dir).ensure() is False
    assert snapshot(keys_dir) == before


def test_ensure_leaves_no_temporary_files(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    assert not [p.name for p in keys_dir.iterdir() if p.name.startswith(".")]


def test_missing_tsa_certificate_is_issued_by_the_existing_ca(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    (keys_dir / TSA_CERT).unlink()
    before = snapshot(keys_dir)

    assert KeyStore(keys_dir).ensure() is True
    after = snapshot(keys_dir)
    assert {name: after[name] for name in before} == before
    store = KeyStore(keys_dir)
    store.tsa_certificate().verify_directly_issued_by(store.ca_certificate())
    assert (
        store.tsa_certificate().public_key()
        == FileTokenSigner.from_files(*store.tsa_key_paths()).certificate.public_key()
    )


def test_missing_tsa_key_and_certificate_are_created_under_the_existing_ca(
    keys_dir: Path,
) -> None:
    KeyStore(keys_dir).ensure()
    ca_before = (keys_dir / CA_CERT).read_bytes()
    old_tsa_key = (keys_dir / TSA_KEY).read_bytes()
    (keys_dir / TSA_CERT).unlink()
    (keys_dir / TSA_KEY).unlink()

    assert KeyStore(keys_dir).ensure() is True
    assert (keys_dir / CA_CERT).read_bytes() == ca_before
    assert (keys_dir / TSA_KEY).read_bytes() != old_tsa_key
    store = KeyStore(keys_dir)
    store.tsa_certificate().verify_directly_issued_by(store.ca_certificate())


def test_missing_ca_certificate_is_rebuilt_from_the_existing_key(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    (keys_dir / CA_CERT).unlink()
    KeyStore(keys_dir).ensure()
    ca = KeyStore(keys_dir).ca_certificate()
    # The existing TSA certificate still chains to the rebuilt root: same key, same name.
    KeyStore(keys_dir).tsa_certificate().verify_directly_issued_by(ca)


def test_ca_key_may_be_moved_offline_once_everything_is_issued(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    (keys_dir / CA_KEY).unlink()
    assert KeyStore(keys_dir).ensure() is False
    assert not (keys_dir / CA_KEY).exists()


def test_ca_certificate_without_its_key_cannot_issue(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    (keys_dir / CA_KEY).unlink()
    (keys_dir / TSA_CERT).unlink()
    with pytest.raises(InconsistentKeyMaterialError) as caught:
        KeyStore(keys_dir).ensure()
    assert isinstance(caught.value, ConfigurationError)
    assert (keys_dir / CA_CERT).exists()


def test_certificate_without_its_key_is_refused(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    certificate = (keys_dir / TSA_CERT).read_bytes()
    (keys_dir / TSA_KEY).unlink()
    with pytest.raises(InconsistentKeyMaterialError):
        KeyStore(keys_dir).ensure()
    assert (keys_dir / TSA_CERT).read_bytes() == certificate


def test_ed25519_public_key_is_derived_from_an_existing_private_key(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    private_before = (keys_dir / SIGNING_KEY).read_bytes()
    (keys_dir / SIGNING_PUB).unlink()
    assert KeyStore(keys_dir).ensure() is True
    store = KeyStore(keys_dir)
    assert (keys_dir / SIGNING_KEY).read_bytes() == private_before
    assert store.ed25519_public_key() == store.ed25519_private_key().public_key()


def test_ed25519_public_key_without_private_key_is_refused(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    (keys_dir / SIGNING_KEY).unlink()
    with pytest.raises(InconsistentKeyMaterialError):
        KeyStore(keys_dir).ensure()


def test_operator_supplied_ca_is_used_and_kept(keys_dir: Path) -> None:
    keys_dir.mkdir(mode=0o700)
    ca = generate_ca(now=datetime.now(UTC), organisation="Operator CA")
    (keys_dir / CA_KEY).write_bytes(
        ca.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (keys_dir / CA_CERT).write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    before = snapshot(keys_dir)

    assert KeyStore(keys_dir).ensure() is True
    after = snapshot(keys_dir)
    assert {name: after[name] for name in before} == before
    KeyStore(keys_dir).tsa_certificate().verify_directly_issued_by(ca.certificate)


def test_existing_public_file_is_never_replaced(keys_dir: Path) -> None:
    keys_dir.mkdir(mode=0o700)
    (keys_dir / SIGNING_PUB).write_bytes(b"operator's file")
    with pytest.raises(InconsistentKeyMaterialError):
        KeyStore(keys_dir).ensure()
    assert [p.name for p in keys_dir.iterdir()] == [SIGNING_PUB]
    assert (keys_dir / SIGNING_PUB).read_bytes() == b"operator's file"


def test_accessors(keys_dir: Path) -> None:
    store = KeyStore(keys_dir, "Acme Notary")
    store.ensure()
    ca = store.ca_certificate()
    tsa = store.tsa_certificate()
    assert ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Acme Notary"
    assert tsa.issuer == ca.subject

    chain = x509.load_pem_x509_certificates(store.tsa_chain_pem())
    assert chain == [tsa, ca]

    signer = FileTokenSigner.from_files(*store.tsa_key_paths())
    assert isinstance(signer, TokenSigner)
    assert signer.certificate == tsa
    assert list(signer.chain) == [ca]
    public_key = tsa.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signer.sign(b"x"), b"x", ec.ECDSA(hashes.SHA256()))

    private = store.ed25519_private_key()
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    store.ed25519_public_key().verify(private.sign(b"m"), b"m")


def test_accessors_load_lazily_and_cache(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    store = KeyStore(keys_dir)
    first = store.tsa_certificate()
    assert store.tsa_certificate() is first
    assert store.ca_certificate() is store.ca_certificate()
    assert store.ed25519_private_key() is store.ed25519_private_key()
    assert store.ed25519_public_key() is store.ed25519_public_key()
    # Cached material survives the files going away.
    for name in ALL_FILES:
        (keys_dir / name).unlink()
    assert store.tsa_certificate() is first
    assert store.tsa_chain_pem().count(b"BEGIN CERTIFICATE") == 2


def test_accessor_without_material_explains_what_is_missing(keys_dir: Path) -> None:
    with pytest.raises(KeyMaterialMissingError, match="ensure"):
        KeyStore(keys_dir).tsa_certificate()


def test_unreadable_pem_is_a_key_store_error(keys_dir: Path) -> None:
    KeyStore(keys_dir).ensure()
    (keys_dir / TSA_CERT).unlink()
    (keys_dir / TSA_CERT).write_bytes(b"garbage")
    with pytest.raises(ConfigurationError):
        KeyStore(keys_dir).tsa_certificate()


def test_certificates_use_the_clock(keys_dir: Path) -> None:
    instant = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    KeyStore(keys_dir, clock=FrozenClock(instant)).ensure()
    store = KeyStore(keys_dir)
    assert store.ca_certificate().not_valid_before_utc < instant
    assert store.tsa_certificate().not_valid_before_utc < instant
    assert (instant - store.tsa_certificate().not_valid_before_utc).total_seconds() < 3600


def test_concurrent_ensure_converges_on_one_set_of_keys(keys_dir: Path) -> None:
    results: list[bool] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def run() -> None:
        barrier.wait()
        try:
            results.append(KeyStore(keys_dir).ensure())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert any(results)
    store = KeyStore(keys_dir)
    store.tsa_certificate().verify_directly_issued_by(store.ca_certificate())
    assert FileTokenSigner.from_files(*store.tsa_key_paths()).certificate == store.tsa_certificate()
    assert sorted(p.name for p in keys_dir.iterdir()) == sorted(ALL_FILES)
