"""Fixtures for the sealing tests: one CA, a local CRL/OCSP server and a sealer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from notarium.adapters.pki.generate import CertifiedKey
from notarium.adapters.pki.keystore import KeyStore
from notarium.core.clock import SystemClock
from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.ledger.tsa.fakes import CountingSerialSource
from notarium.ledger.tsa.file_signer import FileTokenSigner
from notarium.ledger.tsa.stamper import InProcessStamper
from notarium.products.pdf_seal.material import SealMaterial, ensure_seal_material, load_ca
from notarium.products.pdf_seal.sealer import PyHankoTimeStamper, Sealer

from .support import CERTUTIL, PDFSIG, PYHANKO, PkiServer, Validators

ORGANISATION = "Notarium Test"
POLICY = "1.3.6.1.4.1.99999.7.1"


@pytest.fixture(scope="session")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    store = KeyStore(tmp_path_factory.mktemp("seal-keys") / "keys", ORGANISATION)
    store.ensure()
    return store


@pytest.fixture(scope="session")
def ca(keystore: KeyStore) -> CertifiedKey:
    return load_ca(keystore.keys_dir)


@pytest.fixture(scope="session")
def pki_server(ca: CertifiedKey) -> Iterator[PkiServer]:
    with PkiServer(ca).running() as server:
        yield server


@pytest.fixture(scope="session")
def material(keystore: KeyStore, pki_server: PkiServer) -> SealMaterial:
    return ensure_seal_material(
        keystore.keys_dir, organisation=ORGANISATION, base_url=pki_server.base_url
    )


@pytest.fixture(scope="session")
def authority(keystore: KeyStore) -> TimeStampAuthority:
    # Validators check the seal against the current time, so the TSA must use it too.
    return TimeStampAuthority(
        FileTokenSigner.from_files(*keystore.tsa_key_paths()),
        policy_oid=POLICY,
        accuracy_ms=0,
        clock=SystemClock(),
    )


@pytest.fixture(scope="session")
def sealer(material: SealMaterial, authority: TimeStampAuthority) -> Sealer:
    return Sealer(
        material,
        PyHankoTimeStamper(InProcessStamper(authority, CountingSerialSource())),
        organisation=ORGANISATION,
    )


@pytest.fixture
def validators(tmp_path: Path, keystore: KeyStore) -> Validators:
    missing = [
        name
        for name, found in (
            ("pyhanko", PYHANKO.exists()),
            ("pdfsig", PDFSIG),
            ("certutil", CERTUTIL),
        )
        if not found
    ]
    # scripts/system-deps.sh and the test extras install them; without them the seal
    # tests would prove nothing, so their absence is a failure.
    if missing:
        pytest.fail(f"validators not installed: {', '.join(missing)} (scripts/system-deps.sh)")
    return Validators(tmp_path, keystore.path("ca.cert.pem").read_bytes())
