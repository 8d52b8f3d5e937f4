"""On-disk key store: creates missing key material once and never replaces any of it.

Replacing a key would silently invalidate every token and proof issued under it, so
every file is published with a no-clobber hard link and concurrent ``ensure()`` calls
converge on whichever file landed first.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Final, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from notarium.adapters.pki.errors import (
    InconsistentKeyMaterialError,
    KeyMaterialMissingError,
    KeyStoreError,
)
from notarium.adapters.pki.files import publish_new
from notarium.adapters.pki.generate import (
    CertifiedKey,
    build_ca_certificate,
    build_tsa_certificate,
    new_ca_key,
    new_signing_key,
    new_tsa_key,
)
from notarium.core.clock import Clock, SystemClock

CA_KEY: Final = "ca.key.pem"
CA_CERT: Final = "ca.cert.pem"
TSA_KEY: Final = "tsa.key.pem"
TSA_CERT: Final = "tsa.cert.pem"
SIGNING_KEY: Final = "signing-ed25519.key.pem"
SIGNING_PUB: Final = "signing-ed25519.pub.pem"

PRIVATE_FILE_MODE: Final = 0o600
PUBLIC_FILE_MODE: Final = 0o644
DIRECTORY_MODE: Final = 0o700

_T = TypeVar("_T")


def _private_pem(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


class KeyStore:
    def __init__(
        self, keys_dir: Path, organisation: str = "notarium", *, clock: Clock | None = None
    ) -> None:
        self._dir = Path(keys_dir)
        self._organisation = organisation
        self._clock: Clock = clock if clock is not None else SystemClock()

    @property
    def keys_dir(self) -> Path:
        return self._dir

    def path(self, name: str) -> Path:
        return self._dir / name

    # -- creation -----------------------------------------------------------------

    def ensure(self) -> bool:
        """Create whatever key material is missing; True if anything was written.

        The CA key is read only when something must be signed with it, so an operator
        may move it offline once the TSA certificate exists.
        """
        created = self._ensure_directory()
        exists = {name: self.path(name).exists() for name in (CA_KEY, CA_CERT, TSA_KEY, TSA_CERT)}

        # Checked before anything is written, so a refusal leaves the directory as found.
        for private, public in ((TSA_KEY, TSA_CERT), (SIGNING_KEY, SIGNING_PUB)):
            if self.path(public).exists() and not self.path(private).exists():
                raise InconsistentKeyMaterialError(
                    f"{public} exists without {private}; refusing to replace either"
                )
        if not (exists[CA_CERT] and exists[TSA_CERT]):
            if not exists[CA_KEY]:
                if exists[CA_CERT]:
                    raise InconsistentKeyMaterialError(
                        f"{CA_CERT} exists without {CA_KEY}; cannot issue a TSA certificate"
                    )
                created |= self._publish(CA_KEY, _private_pem(new_ca_key()), PRIVATE_FILE_MODE)
            ca_key = self._load_ec_key(CA_KEY)
            if not exists[CA_CERT]:
                certificate = build_ca_certificate(
                    ca_key, now=self._clock.now(), organisation=self._organisation
                )
                created |= self._publish(CA_CERT, _certificate_pem(certificate), PUBLIC_FILE_MODE)
            if not exists[TSA_KEY]:
                created |= self._publish(TSA_KEY, _private_pem(new_tsa_key()), PRIVATE_FILE_MODE)
            if not exists[TSA_CERT]:
                ca = CertifiedKey(ca_key, self._load_certificate(CA_CERT))
                if ca.certificate.public_key() != ca_key.public_key():
                    raise InconsistentKeyMaterialError(f"{CA_CERT} does not match {CA_KEY}")
                certificate = build_tsa_certificate(
                    self._load_ec_key(TSA_KEY).public_key(),
                    ca=ca,
                    now=self._clock.now(),
                    organisation=self._organisation,
                )
                created |= self._publish(TSA_CERT, _certificate_pem(certificate), PUBLIC_FILE_MODE)

        if not self.path(SIGNING_KEY).exists():
            created |= self._publish(
                SIGNING_KEY, _private_pem(new_signing_key()), PRIVATE_FILE_MODE
            )
        if not self.path(SIGNING_PUB).exists():
            public_pem = (
                self._load_ed25519_key()
                .public_key()
                .public_bytes(
                    serialization.Encoding.PEM,
                    serialization.PublicFormat.SubjectPublicKeyInfo,
                )
            )
            created |= self._publish(SIGNING_PUB, public_pem, PUBLIC_FILE_MODE)
        return created

    def _ensure_directory(self) -> bool:
        try:
            self._dir.mkdir(mode=DIRECTORY_MODE, parents=True)
        except FileExistsError:
            if not self._dir.is_dir():
                raise KeyStoreError(f"{self._dir} exists and is not a directory") from None
            if stat.S_IMODE(self._dir.stat().st_mode) & 0o077:
                # Best effort: a read-only mount holding finished material must still
                # start, and its private files are 0600 regardless.
                with contextlib.suppress(OSError):
                    os.chmod(self._dir, DIRECTORY_MODE)
            return False
        except OSError as exc:
            raise KeyStoreError(f"cannot create key directory {self._dir}: {exc}") from exc
        # mkdir's mode is filtered by the umask, which can only remove bits; this makes
        # the result exactly 0700 whatever the umask was.
        os.chmod(self._dir, DIRECTORY_MODE)
        return True

    def _publish(self, name: str, data: bytes, mode: int) -> bool:
        """Write ``name`` only if it does not exist; False if another writer won."""
        try:
            created = publish_new(self.path(name), data, mode)
        except OSError as exc:
            raise KeyStoreError(f"cannot write {self.path(name)}: {exc}") from exc
        if created:
            self._sync_directory()
        return created

    def _sync_directory(self) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(self._dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    # -- loading ------------------------------------------------------------------

    def _read(self, name: str) -> bytes:
        try:
            return self.path(name).read_bytes()
        except FileNotFoundError:
            raise KeyMaterialMissingError(
                f"{self.path(name)} is missing; run the key store's ensure() first"
            ) from None
        except OSError as exc:
            raise KeyStoreError(f"cannot read {self.path(name)}: {exc}") from exc

    def _parse(self, name: str, parse: Callable[[bytes], _T]) -> _T:
        try:
            return parse(self._read(name))
        except (ValueError, TypeError) as exc:
            raise KeyStoreError(f"{self.path(name)} is not valid PEM: {exc}") from exc

    def _load_ec_key(self, name: str) -> ec.EllipticCurvePrivateKey:
        key = self._parse(name, lambda pem: serialization.load_pem_private_key(pem, None))
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyStoreError(f"{self.path(name)} is not an ECDSA private key")
        return key

    def _load_ed25519_key(self) -> ed25519.Ed25519PrivateKey:
        key = self._parse(SIGNING_KEY, lambda pem: serialization.load_pem_private_key(pem, None))
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise KeyStoreError(f"{self.path(SIGNING_KEY)} is not an Ed25519 private key")
        return key

    def _load_certificate(self, name: str) -> x509.Certificate:
        return self._parse(name, x509.load_pem_x509_certificate)

    @cached_property
    def _ca_certificate(self) -> x509.Certificate:
        return self._load_certificate(CA_CERT)

    @cached_property
    def _tsa_certificate(self) -> x509.Certificate:
        return self._load_certificate(TSA_CERT)

    @cached_property
    def _ed25519_private_key(self) -> ed25519.Ed25519PrivateKey:
        return self._load_ed25519_key()

    @cached_property
    def _ed25519_public_key(self) -> ed25519.Ed25519PublicKey:
        key = self._parse(SIGNING_PUB, serialization.load_pem_public_key)
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise KeyStoreError(f"{self.path(SIGNING_PUB)} is not an Ed25519 public key")
        return key

    # -- accessors ----------------------------------------------------------------

    def ca_certificate(self) -> x509.Certificate:
        return self._ca_certificate

    def tsa_certificate(self) -> x509.Certificate:
        return self._tsa_certificate

    def tsa_chain_pem(self) -> bytes:
        """TSA certificate then CA certificate, as relying parties expect a chain."""
        return _certificate_pem(self._tsa_certificate) + _certificate_pem(self._ca_certificate)

    def tsa_key_paths(self) -> tuple[Path, Path, Path]:
        """The TSA's private key, its certificate and the CA above it: what a token
        signer is loaded from (the key store only keeps the files)."""
        return self.path(TSA_KEY), self.path(TSA_CERT), self.path(CA_CERT)

    def ed25519_private_key(self) -> ed25519.Ed25519PrivateKey:
        return self._ed25519_private_key

    def ed25519_public_key(self) -> ed25519.Ed25519PublicKey:
        return self._ed25519_public_key
