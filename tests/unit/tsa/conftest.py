"""Fixtures for the TSA tests: key material, a frozen clock, and the real OpenSSL CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from notarium.adapters.pki.keystore import KeyStore
from notarium.core.clock import FrozenClock
from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.ledger.tsa.file_signer import FileTokenSigner
from notarium.ledger.tsa.ports import TokenSigner

from .support import ACCURACY_MS, FROZEN_AT, OTHER_POLICY, POLICY, OpenSSLTs, PkiFiles


@pytest.fixture(scope="session")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    store = KeyStore(tmp_path_factory.mktemp("tsa-keys") / "keys", "Notarium Test")
    store.ensure()
    return store


@pytest.fixture(scope="session")
def signer(keystore: KeyStore) -> TokenSigner:
    return FileTokenSigner.from_files(*keystore.tsa_key_paths())


@pytest.fixture(scope="session")
def pki_files(keystore: KeyStore, tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    directory = tmp_path_factory.mktemp("tsa-pem")
    files = PkiFiles(directory / "ca.pem", directory / "tsa.pem", directory / "chain.pem")
    files.ca.write_bytes(keystore.path("ca.cert.pem").read_bytes())
    files.tsa.write_bytes(keystore.path("tsa.cert.pem").read_bytes())
    files.chain.write_bytes(keystore.tsa_chain_pem())
    return files


@pytest.fixture
def openssl(tmp_path: Path, pki_files: PkiFiles) -> OpenSSLTs:
    return OpenSSLTs(tmp_path, pki_files)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FROZEN_AT)


@pytest.fixture
def authority(signer: TokenSigner, clock: FrozenClock) -> TimeStampAuthority:
    return TimeStampAuthority(
        signer,
        policy_oid=POLICY,
        accuracy_ms=ACCURACY_MS,
        clock=clock,
        accepted_policy_oids=(OTHER_POLICY,),
    )


@pytest.fixture(scope="session")
def shared_authority(signer: TokenSigner) -> Iterator[TimeStampAuthority]:
    """Session-wide instance for hypothesis tests, which reject function-scoped fixtures."""
    yield TimeStampAuthority(
        signer, policy_oid=POLICY, accuracy_ms=ACCURACY_MS, clock=FrozenClock(FROZEN_AT)
    )
