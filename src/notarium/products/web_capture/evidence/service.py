"""Turning a finished capture into signed, time-stamped evidence.

``EvidenceService.build`` is CPU-bound (compression, hashing, three signatures, two
tokens) and synchronous: call it from a worker thread in async code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from notarium import __version__
from notarium.adapters.pki.keystore import KeyStore
from notarium.core.clock import Clock
from notarium.formats.evidence.capture_result import CaptureResult
from notarium.formats.evidence.errors import EvidenceBuildError
from notarium.formats.evidence.facts import capture_facts
from notarium.formats.evidence.manifest import Artifact, build_manifest
from notarium.formats.evidence.package import (
    DOM_FILE,
    HAR_FILE,
    SCREENSHOT_FILE,
    WACZ_FILE,
    EvidencePackage,
)
from notarium.formats.evidence.wacz import DigestSigner, build_wacz
from notarium.formats.evidence.warc import build_warc
from notarium.formats.rfc3161.reply import granted_response
from notarium.formats.signing import RecordSigner
from notarium.products.pdf_seal.material import load_ca
from notarium.products.web_capture.evidence.ports import Timestamper
from notarium.products.web_capture.evidence.wacz_signing import WaczSigner, ensure_wacz_signing_key

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SOFTWARE = f"notarium {__version__}"


def _check_usable(result: CaptureResult) -> None:
    if not result.exchanges:
        raise EvidenceBuildError("the capture recorded no HTTP exchange")
    try:
        log = json.loads(result.har)["log"]
        entries = log["entries"]
    except (ValueError, TypeError, KeyError) as exc:
        raise EvidenceBuildError(f"the HAR is not a HAR log: {exc}") from exc
    if not isinstance(entries, list) or not entries:
        raise EvidenceBuildError("the HAR holds no entries")
    if not result.screenshot_png.startswith(PNG_SIGNATURE):
        raise EvidenceBuildError("the screenshot is not a PNG image")


class EvidenceService:
    def __init__(
        self,
        *,
        signer: RecordSigner,
        timestamper: Timestamper,
        wacz_signer: DigestSigner,
        ca_certificate: x509.Certificate,
        tsa_chain_pem: bytes,
        clock: Clock,
        software: str = SOFTWARE,
    ) -> None:
        self._signer = signer
        self._timestamper = timestamper
        self._wacz_signer = wacz_signer
        self._ca_pem = ca_certificate.public_bytes(serialization.Encoding.PEM)
        self._tsa_chain_pem = tsa_chain_pem
        self._public_key_pem = Ed25519PublicKey.from_public_bytes(
            signer.public_key_raw
        ).public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self._clock = clock
        self._software = software

    def build(self, result: CaptureResult, capture_id: str) -> EvidencePackage:
        """Package ``result`` as evidence known by ``capture_id``.

        ``capture_id`` is written into the manifest, so it must exist before the record
        does: the capture's own identifier (the API's ``recordingId``), not the record's
        certificate id, which is only drawn once ``manifest_sha256`` is entered.
        Raises ``EvidenceBuildError`` when the capture holds nothing to certify.
        """
        if not capture_id:
            raise EvidenceBuildError("capture_id must not be empty")
        _check_usable(result)
        now = self._clock.now()
        # Milliseconds, as the manifest states it, so a package read back is equal.
        created = now.replace(microsecond=now.microsecond - now.microsecond % 1000)
        facts = capture_facts(result)
        warc = build_warc(result, software=self._software, facts=facts)
        wacz = build_wacz(
            warc,
            title=result.title,
            created=created,
            software=self._software,
            sign=self._wacz_signer,
        )
        dom = result.dom_html.encode("utf-8")
        artifacts = (
            Artifact(WACZ_FILE, "application/wacz", wacz.data),
            Artifact(HAR_FILE, "application/json", result.har),
            Artifact(SCREENSHOT_FILE, "image/png", result.screenshot_png),
            Artifact(DOM_FILE, "text/html; charset=utf-8", dom),
        )
        manifest = build_manifest(
            capture_id=capture_id,
            created=created,
            software=self._software,
            facts=facts,
            artifacts=artifacts,
            wacz_path=WACZ_FILE,
            wacz=wacz,
            signer=self._signer,
        )
        digest = hashlib.sha256(manifest).digest()
        token = self._timestamper.timestamp(digest)
        return EvidencePackage(
            capture_id=capture_id,
            created=created,
            manifest=manifest,
            manifest_sha256=digest.hex(),
            manifest_signature=self._signer.sign(manifest),
            manifest_tsr=granted_response(token),
            wacz=wacz.data,
            har=result.har,
            screenshot_png=result.screenshot_png,
            dom_html=dom,
            public_key_pem=self._public_key_pem,
            ca_pem=self._ca_pem,
            tsa_chain_pem=self._tsa_chain_pem,
        )


def signing_domain(base_url: str) -> str:
    """The host the service is reached at: the WACZ signature's ``domain``."""
    host = urlsplit(base_url).hostname
    if not host:
        raise EvidenceBuildError(f"cannot take a host name from the base URL {base_url!r}")
    return host


def build_evidence_service(
    keystore: KeyStore,
    *,
    timestamper: Timestamper,
    signer: RecordSigner,
    base_url: str,
    organisation: str,
    clock: Clock,
    software: str = SOFTWARE,
) -> EvidenceService:
    """Wiring for the runtime: the WACZ key is created in the key directory on first use
    and certified, per signature, by the service CA (whose key must then be online, as it
    is for sealing)."""
    keys_dir = Path(keystore.keys_dir)
    return EvidenceService(
        signer=signer,
        timestamper=timestamper,
        wacz_signer=WaczSigner(
            ensure_wacz_signing_key(keys_dir),
            load_ca(keys_dir),
            timestamper,
            domain=signing_domain(base_url),
            organisation=organisation,
            software=software,
            clock=clock,
        ),
        ca_certificate=keystore.ca_certificate(),
        tsa_chain_pem=keystore.tsa_chain_pem(),
        clock=clock,
        software=software,
    )
