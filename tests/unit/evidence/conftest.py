from __future__ import annotations

import io
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from notarium.adapters.pki.keystore import KeyStore
from notarium.core.clock import SystemClock
from notarium.formats.evidence.package import EvidencePackage
from notarium.formats.signing import Ed25519RecordSigner
from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.ledger.tsa.fakes import FakeStamper
from notarium.ledger.tsa.file_signer import FileTokenSigner
from notarium.products.pdf_seal.material import load_ca
from notarium.products.web_capture.evidence.ports import Timestamper
from notarium.products.web_capture.evidence.service import EvidenceService, build_evidence_service
from notarium.products.web_capture.evidence.wacz_signing import WaczSigner, ensure_wacz_signing_key

from .captures import sample_capture

ORGANISATION = "Example Notary"
BASE_URL = "https://notary.example.test:8443"
CAPTURE_ID = "6f1c2a9e-3b7d-4c55-9a0e-2d4b8f7e1c01"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session", autouse=True)
def _require_validators() -> None:
    # Without them these tests would prove nothing about the files' formats.
    for tool in ("openssl",):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed to check evidence packages")
    for tool in ("warcio", "wacz"):
        if not (BIN / tool).exists():
            pytest.fail(f"{BIN / tool} is needed to check web archives")


def tool(name: str) -> str:
    """The virtualenv's copy of a validator if it has one, else the system's."""
    local = BIN / name
    return str(local) if local.exists() else name


@dataclass(frozen=True)
class Pki:
    keystore: KeyStore
    authority: TimeStampAuthority
    signer: Ed25519RecordSigner

    @property
    def keys_dir(self) -> Path:
        return self.keystore.keys_dir


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    keystore = KeyStore(tmp_path_factory.mktemp("evidence") / "keys", ORGANISATION)
    keystore.ensure()
    authority = TimeStampAuthority(
        FileTokenSigner.from_files(*keystore.tsa_key_paths()),
        policy_oid="2.25.40862002418761283865128035908318153351",
        accuracy_ms=0,
        clock=SystemClock(),
    )
    signer = Ed25519RecordSigner(keystore.ed25519_private_key(), "notary.example.test")
    return Pki(keystore, authority, signer)


@pytest.fixture(scope="session")
def timestamper(pki: Pki) -> FakeStamper:
    return FakeStamper(pki.authority)


def signer_for(
    pki: Pki, timestamper: Timestamper, domain: str = "notary.example.test"
) -> WaczSigner:
    return WaczSigner(
        ensure_wacz_signing_key(pki.keys_dir),
        load_ca(pki.keys_dir),
        timestamper,
        domain=domain,
        organisation="Example Notary",
        software="notarium test",
        clock=SystemClock(),
    )


@pytest.fixture(scope="session")
def service(pki: Pki, timestamper: FakeStamper) -> EvidenceService:
    return build_evidence_service(
        pki.keystore,
        timestamper=timestamper,
        signer=pki.signer,
        base_url=BASE_URL,
        organisation=ORGANISATION,
        clock=SystemClock(),
    )


@pytest.fixture(scope="session")
def package(service: EvidenceService) -> EvidencePackage:
    return service.build(sample_capture(), CAPTURE_ID)


def zip_entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(entries: dict[str, bytes]) -> bytes:
    """A well-formed ZIP of ``entries``: tampering a verifier must catch by content, not
    by a broken CRC."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def edit_zip(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    entries = zip_entries(data)
    entries[name] = change(entries[name])
    return rezip(entries)


def extract(data: bytes, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(directory)
    return directory
