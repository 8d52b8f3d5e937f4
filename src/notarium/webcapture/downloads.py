"""What a pre-signed link serves: the capture's sealed certificate PDF, and the evidence
package completed with the record's current proof bundle and that certificate.

Both follow the record: a certificate PDF is rebuilt (and cached) whenever the record's
status, anchors or log entry change, and the evidence package always carries the
latest proof."""

from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image as PilImage

from notarium.certificate_pdf.facts import Attachment, Field, Image, Section, Table, fingerprint
from notarium.certificate_pdf.service import CertificatePdfService
from notarium.evidence.package import (
    MANIFEST,
    MANIFEST_SIG,
    MANIFEST_TSR,
    SCREENSHOT_FILE,
    EvidencePackage,
    read_zip,
)
from notarium.proofs.canonical import canonical_json
from notarium.proofs.service import ProofService
from notarium.records.values import Owner
from notarium.webcapture.evidence import EVIDENCE_ZIP
from notarium.webcapture.links import LinkInvalid
from notarium.webcapture.service import WebCaptureService
from notarium.webcapture.values import EvidenceFile, WebCaptureView

CERTIFICATE_PDF = "certificate.pdf"
# The screenshot excerpt: the top of the page, at most this many CSS pixels tall.
EXCERPT_HEIGHT = 1000


class CaptureDownloads:
    def __init__(
        self,
        captures: WebCaptureService,
        proofs: ProofService,
        certificates: CertificatePdfService,
    ) -> None:
        self.captures = captures
        self.proofs = proofs
        self.certificates = certificates

    def download(self, recording_id: str, name: str) -> EvidenceFile:
        view, owner = self.captures.get_any(recording_id)
        if name == CERTIFICATE_PDF:
            return EvidenceFile(
                f"{view.certificate_id}.certificate.pdf",
                "application/pdf",
                self.certificate(owner, view),
            )
        if name == EVIDENCE_ZIP:
            return EvidenceFile(
                f"evidence-{view.certificate_id}.zip", "application/zip", self.evidence(owner, view)
            )
        raise LinkInvalid("No such download.")

    def certificate(self, owner: Owner, view: WebCaptureView) -> bytes:
        service = self.certificates
        evidence = service.records.evidence(owner, view.record_id)
        facts = service.facts(evidence)
        version = fingerprint(facts, extra=(view.recording_id,))
        cached = service.cache.get(view.record_id, version)
        if cached is not None:
            return cached
        files = read_zip(self.captures.artifact(view.recording_id, EVIDENCE_ZIP).content)
        attachments = [
            *service.attachments(owner, evidence),
            Attachment(
                MANIFEST,
                files[MANIFEST],
                "application/json",
                "The capture manifest: every artifact's SHA-256 and the capture facts.",
            ),
            Attachment(
                MANIFEST_SIG,
                files[MANIFEST_SIG],
                "application/octet-stream",
                "Ed25519 signature over manifest.json by the service key.",
            ),
            Attachment(
                MANIFEST_TSR,
                files[MANIFEST_TSR],
                "application/timestamp-reply",
                "RFC 3161 time-stamp response over manifest.json.",
            ),
        ]
        pdf = service.builder.build(
            facts, attachments=attachments, sections=capture_sections(view, files)
        )
        service.cache.put(view.record_id, version, pdf)
        return pdf

    def evidence(self, owner: Owner, view: WebCaptureView) -> bytes:
        files = read_zip(self.captures.artifact(view.recording_id, EVIDENCE_ZIP).content)
        _, bundle = self.proofs.bundle(owner, view.record_id)
        package = EvidencePackage.from_files(view.recording_id, files)
        return package.with_files(
            proof_json=canonical_json(bundle), certificate_pdf=self.certificate(owner, view)
        ).zip_bytes


def capture_sections(view: WebCaptureView, files: dict[str, bytes]) -> tuple[Section, ...]:
    manifest: dict[str, Any] = json.loads(files[MANIFEST])
    facts = view.facts
    fields = [
        Field("Requested URL", view.url, mono=True),
        Field("Final URL", view.final_url, mono=True),
        Field("Page title", view.title or "-"),
        Field("Captured", f"{facts.get('startedAt', '')} to {facts.get('finishedAt', '')}"),
        Field("Browser", f"Chromium {facts.get('browserVersion', '')}"),
        Field("Viewport", "x".join(str(n) for n in facts.get("viewport", ()))),
        Field("Server addresses", ", ".join(facts.get("serverIps", ())) or "-", mono=True),
    ]
    if facts.get("redirects"):
        chain = " -> ".join(f"{r['status']} {r['url']}" for r in facts["redirects"])
        fields.append(Field("Redirects", chain, mono=True))
    if facts.get("consentDismissed"):
        fields.append(Field("Consent banners dismissed", ", ".join(facts["consentDismissed"])))
    fields.append(
        Field(
            "Assisted",
            "yes: a person cleared a challenge in the live browser before certification"
            if view.assisted
            else "no",
        )
    )
    artifacts = manifest.get("artifacts", [])
    rows = tuple((str(a.get("path", "")), str(a.get("sha256", ""))) for a in artifacts)
    return (
        Section(
            "Captured web page",
            fields=tuple(fields),
            image=Image(excerpt(files[SCREENSHOT_FILE]), caption="Top of the captured page"),
        ),
        Section(
            "Evidence",
            paragraphs=(
                "manifest.json lists every artifact with its SHA-256; its own SHA-256 is the "
                "hash this certificate's record time-stamps and anchors. The evidence package "
                "(download it from the API) holds the artifacts, the signed and time-stamped "
                "manifest and a signed WACZ web archive; check it offline with "
                "`notarium verify evidence.zip`, and the archive with `wacz validate`.",
            ),
            table=Table(("Artifact", "SHA-256"), rows, mono_columns=frozenset({1})),
        ),
    )


def excerpt(png: bytes) -> bytes:
    """The top of a full-page screenshot, so a long page stays legible on the certificate."""
    with PilImage.open(io.BytesIO(png)) as image:
        width, height = image.size
        top = image.crop((0, 0, width, min(height, EXCERPT_HEIGHT))).convert("RGB")
        out = io.BytesIO()
        top.save(out, format="PNG", optimize=True)
        return out.getvalue()
