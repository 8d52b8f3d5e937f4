"""The evidence package: one ZIP a third party can check offline.

Its entries, in this order::

    manifest.json          canonical JSON: artifacts with SHA-256, capture facts
    manifest.sig           64-byte Ed25519 signature over manifest.json
    manifest.tsr           RFC 3161 TimeStampResp over SHA-256(manifest.json)
    capture.wacz           WACZ 1.1.1 (WARC + index + pages), signed datapackage digest
    capture.har            HAR 1.2 as the browser recorded it
    screenshot.png         full-page screenshot
    dom.html               rendered DOM
    keys/ed25519.pub.pem   the service's Ed25519 public key (SubjectPublicKeyInfo PEM)
    keys/ca.cert.pem       the service CA, root of the TSA and WACZ signing certificates
    keys/tsa-chain.pem     TSA certificate then CA certificate
    README.txt             how to check all of it with openssl and notarium
    proof.json             (once added) the record's proof bundle
    certificate.pdf        (once added) the sealed certificate PDF

Entries carry the package's creation time, so the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Final

from notarium.formats.evidence.errors import EvidencePackageError

MANIFEST: Final = "manifest.json"
MANIFEST_SIG: Final = "manifest.sig"
MANIFEST_TSR: Final = "manifest.tsr"
WACZ_FILE: Final = "capture.wacz"
HAR_FILE: Final = "capture.har"
SCREENSHOT_FILE: Final = "screenshot.png"
DOM_FILE: Final = "dom.html"
PUBLIC_KEY_FILE: Final = "keys/ed25519.pub.pem"
CA_FILE: Final = "keys/ca.cert.pem"
TSA_CHAIN_FILE: Final = "keys/tsa-chain.pem"
README_FILE: Final = "README.txt"
PROOF_FILE: Final = "proof.json"
CERTIFICATE_FILE: Final = "certificate.pdf"

ARTIFACT_FILES: Final = (WACZ_FILE, HAR_FILE, SCREENSHOT_FILE, DOM_FILE)
REQUIRED_FILES: Final = (
    MANIFEST,
    MANIFEST_SIG,
    MANIFEST_TSR,
    *ARTIFACT_FILES,
    PUBLIC_KEY_FILE,
    CA_FILE,
    TSA_CHAIN_FILE,
)
OPTIONAL_FILES: Final = (README_FILE, PROOF_FILE, CERTIFICATE_FILE)
KNOWN_FILES: Final = frozenset((*REQUIRED_FILES, *OPTIONAL_FILES))

#: Limits for reading packages from strangers: no entry may claim more, so a crafted
#: archive cannot make a verifier inflate gigabytes.
MAX_ENTRIES: Final = 64
MAX_ENTRY_BYTES: Final = 1 << 30

README: Final = """\
notarium evidence package
=========================

manifest.json lists every artifact of this web capture with its SHA-256 and states
the capture facts. It is signed and time-stamped; check all of it offline with

    notarium verify evidence.zip --trust keys/ca.cert.pem

or piece by piece with OpenSSL (after unzipping):

    sha256sum capture.wacz capture.har screenshot.png dom.html   # compare with manifest.json
    openssl pkeyutl -verify -pubin -inkey keys/ed25519.pub.pem -rawin \\
        -in manifest.json -sigfile manifest.sig
    openssl ts -verify -data manifest.json -in manifest.tsr \\
        -CAfile keys/ca.cert.pem -untrusted keys/tsa-chain.pem

capture.wacz is a WACZ 1.1.1 web archive (open it in ReplayWeb.page); its
datapackage-digest.json is signed in the WACZ signing format under keys/ca.cert.pem.
Compare keys/ca.cert.pem and keys/ed25519.pub.pem with what the service publishes:
a package can only vouch for itself as far as you trust those two keys.
"""


@dataclass(frozen=True)
class EvidencePackage:
    """A built evidence package. ``zip_bytes`` is the file to hand out; the other fields
    are its parts, for storing and for the record pipeline (``manifest_sha256``)."""

    capture_id: str
    created: datetime
    manifest: bytes
    manifest_sha256: str
    manifest_signature: bytes
    manifest_tsr: bytes
    wacz: bytes
    har: bytes
    screenshot_png: bytes
    dom_html: bytes
    public_key_pem: bytes
    ca_pem: bytes
    tsa_chain_pem: bytes
    proof_json: bytes | None = None
    certificate_pdf: bytes | None = None

    @classmethod
    def from_files(cls, capture_id: str, files: Mapping[str, bytes]) -> EvidencePackage:
        """A package read back from its entries (``read_zip`` of a stored ZIP), to hand out
        again ``with_files`` its proof and certificate; its ZIP is byte for byte the one
        it was read from, as entries are dated from the manifest's ``created``."""
        missing = [name for name in REQUIRED_FILES if name not in files]
        if missing:
            raise EvidencePackageError(f"the evidence package lacks {', '.join(missing)}")
        try:
            manifest = json.loads(files[MANIFEST])
            created = datetime.strptime(manifest["created"], "%Y-%m-%dT%H:%M:%S.%fZ")
            stated_id = manifest["capture_id"]
        except (ValueError, TypeError, KeyError) as exc:
            raise EvidencePackageError(f"manifest.json cannot be read: {exc}") from exc
        if stated_id != capture_id:
            raise EvidencePackageError(
                f"the package is the evidence of capture {stated_id}, not {capture_id}"
            )
        return cls(
            capture_id=capture_id,
            created=created.replace(tzinfo=UTC),
            manifest=files[MANIFEST],
            manifest_sha256=hashlib.sha256(files[MANIFEST]).hexdigest(),
            manifest_signature=files[MANIFEST_SIG],
            manifest_tsr=files[MANIFEST_TSR],
            wacz=files[WACZ_FILE],
            har=files[HAR_FILE],
            screenshot_png=files[SCREENSHOT_FILE],
            dom_html=files[DOM_FILE],
            public_key_pem=files[PUBLIC_KEY_FILE],
            ca_pem=files[CA_FILE],
            tsa_chain_pem=files[TSA_CHAIN_FILE],
            proof_json=files.get(PROOF_FILE),
            certificate_pdf=files.get(CERTIFICATE_FILE),
        )

    @property
    def filename(self) -> str:
        return f"evidence-{self.capture_id}.zip"

    def files(self) -> tuple[tuple[str, bytes], ...]:
        """Every entry of the ZIP, in order."""
        entries = [
            (MANIFEST, self.manifest),
            (MANIFEST_SIG, self.manifest_signature),
            (MANIFEST_TSR, self.manifest_tsr),
            (WACZ_FILE, self.wacz),
            (HAR_FILE, self.har),
            (SCREENSHOT_FILE, self.screenshot_png),
            (DOM_FILE, self.dom_html),
            (PUBLIC_KEY_FILE, self.public_key_pem),
            (CA_FILE, self.ca_pem),
            (TSA_CHAIN_FILE, self.tsa_chain_pem),
            (README_FILE, README.encode()),
        ]
        if self.proof_json is not None:
            entries.append((PROOF_FILE, self.proof_json))
        if self.certificate_pdf is not None:
            entries.append((CERTIFICATE_FILE, self.certificate_pdf))
        return tuple(entries)

    @cached_property
    def zip_bytes(self) -> bytes:
        stamp = self.created.astimezone(UTC).timetuple()[:6]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in self.files():
                info = zipfile.ZipInfo(name, date_time=stamp)
                # Already-compressed files gain nothing from deflate.
                info.compress_type = (
                    zipfile.ZIP_STORED
                    if name in (WACZ_FILE, SCREENSHOT_FILE, CERTIFICATE_FILE)
                    else zipfile.ZIP_DEFLATED
                )
                archive.writestr(info, data)
        return buffer.getvalue()

    def with_files(
        self, *, proof_json: bytes | None = None, certificate_pdf: bytes | None = None
    ) -> EvidencePackage:
        """The second stage: the same package plus the record's proof bundle and the
        sealed certificate PDF, which only exist once the manifest hash is a record.
        Neither is covered by the manifest; each carries its own signatures."""
        return replace(
            self,
            proof_json=proof_json if proof_json is not None else self.proof_json,
            certificate_pdf=(
                certificate_pdf if certificate_pdf is not None else self.certificate_pdf
            ),
        )


def read_zip(data: bytes, *, what: str = "evidence package") -> dict[str, bytes]:
    """Every entry of a ZIP by name; refuses duplicates, directories escaping the root,
    and entries or archives beyond the limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise EvidencePackageError(f"the {what} is not a ZIP file: {exc}") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise EvidencePackageError(f"the {what} has more than {MAX_ENTRIES} entries")
        entries: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            name = info.filename
            if name in entries:
                raise EvidencePackageError(f"the {what} holds {name!r} twice")
            if info.file_size > MAX_ENTRY_BYTES:
                raise EvidencePackageError(f"{name!r} in the {what} is too large")
            try:
                entries[name] = archive.read(info)
            except (zipfile.BadZipFile, ValueError, NotImplementedError, EOFError) as exc:
                raise EvidencePackageError(f"{name!r} in the {what} is corrupt: {exc}") from exc
        return entries


def looks_like_evidence_package(data: bytes) -> bool:
    """True for a ZIP with a ``manifest.json`` and a ``capture.wacz``: how ``notarium
    verify`` tells an evidence package from a file to check against a proof."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False
    return MANIFEST in names and WACZ_FILE in names
