"""What a pre-signed link serves: the capture's sealed certificate PDF, and the evidence
package completed with the record's current proof bundle and that certificate.

Both follow the record: a certificate PDF is rebuilt (and cached) whenever the record's
status, anchors or log entry change, and the evidence package always carries the
latest proof."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

from notarium.formats.canonical import canonical_json
from notarium.formats.evidence.package import (
    MANIFEST,
    MANIFEST_SIG,
    MANIFEST_TSR,
    SCREENSHOT_FILE,
    EvidencePackage,
    read_zip,
)
from notarium.ledger.proofs import ProofService
from notarium.ledger.records.values import Owner
from notarium.products.certificate_pdf.facts import (
    Attachment,
    Field,
    Image,
    Section,
    Table,
    fingerprint,
)
from notarium.products.certificate_pdf.service import CertificatePdfService
from notarium.products.web_capture.links import LinkInvalid
from notarium.products.web_capture.packaging import EVIDENCE_ZIP
from notarium.products.web_capture.service import WebCaptureService
from notarium.products.web_capture.values import EvidenceFile, WebCaptureView

CERTIFICATE_PDF = "certificate.pdf"
TITLE = "Web capture certificate"
# Bumped whenever the capture sections change, so cached PDFs of the old layout go.
CAPTURE_LAYOUT = "4"
# The screenshot excerpt: the page as it first showed (one viewport), or this many pixels
# when the viewport is unknown; framed, since many pages are white like the paper.
EXCERPT_HEIGHT = 800
EXCERPT_FRAME = (150, 150, 150)
# Small enough that, below the record's own facts and the URLs, it still fits on the
# first page of a fresh certificate.
EXCERPT_MAX_HEIGHT_MM = 72.0
# Pixels across: about 210 dpi at the width it is shown, and half the bytes of a
# 1280-pixel screenshot for the PDF writer to compress and encode.
EXCERPT_WIDTH = 960


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
        facts = dataclasses.replace(service.facts(evidence), title=TITLE)
        version = fingerprint(facts, extra=(view.recording_id, CAPTURE_LAYOUT))
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
    """What a web capture's certificate adds to the record's own facts: the URLs and the
    top of the page lead the certificate (the page is what is certified; the manifest
    whose hash the record carries comes after), then, after the record's facts, how it
    was captured and the evidence's hashes."""
    manifest: dict[str, Any] = json.loads(files[MANIFEST])
    facts = view.facts
    page = [
        Field("Requested URL", view.url, mono=True),
        Field("Final URL", view.final_url, mono=True),
        Field("Page title", view.title or "-"),
    ]
    details = [
        Field("Captured", f"{facts.get('startedAt', '')} to {facts.get('finishedAt', '')}"),
        Field(
            "Browser",
            f"Chromium {facts.get('browserVersion', '')}, viewport "
            + "x".join(str(n) for n in facts.get("viewport", ())),
        ),
        Field("Server addresses", ", ".join(facts.get("serverIps", ())) or "-", mono=True),
    ]
    if facts.get("redirects"):
        chain = " -> ".join(f"{r['status']} {r['url']}" for r in facts["redirects"])
        details.append(Field("Redirects", chain, mono=True))
    if facts.get("consentDismissed"):
        details.append(Field("Consent banners dismissed", ", ".join(facts["consentDismissed"])))
    details.append(
        Field(
            "Assisted",
            "yes: a person cleared a challenge in the live browser before certification"
            if view.assisted
            else "no",
        )
    )
    artifacts = manifest.get("artifacts", [])
    rows = tuple((str(a.get("path", "")), str(a.get("sha256", ""))) for a in artifacts)
    viewport = facts.get("viewport") or ()
    return (
        Section(
            "Captured web page",
            fields=tuple(page),
            image=Image(
                excerpt(files[SCREENSHOT_FILE], viewport=tuple(viewport)),
                caption="The top of the captured page, as it first showed in the browser "
                "(the full-page screenshot is in the evidence package)",
                max_height_mm=EXCERPT_MAX_HEIGHT_MM,
            ),
            leading=True,
        ),
        Section("How it was captured", fields=tuple(details)),
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


def excerpt(png: bytes, *, viewport: tuple[int, ...] = ()) -> bytes:
    """The top of a full-page screenshot, one viewport tall, in a thin frame: a long page
    stays legible on the certificate, and a white page stands apart from the paper."""
    from PIL import Image as PilImage
    from PIL import ImageOps

    with PilImage.open(io.BytesIO(png)) as image:
        width, height = image.size
        limit = EXCERPT_HEIGHT
        if len(viewport) == 2 and viewport[0] > 0:
            # Screenshot pixels per CSS pixel (the device scale factor).
            limit = round(viewport[1] * width / viewport[0])
        top = image.crop((0, 0, width, min(height, limit))).convert("RGB")
    if top.width > EXCERPT_WIDTH:
        scaled = (EXCERPT_WIDTH, max(1, round(top.height * EXCERPT_WIDTH / top.width)))
        top = top.resize(scaled, PilImage.Resampling.LANCZOS)
    framed = ImageOps.expand(top, border=2, fill=EXCERPT_FRAME)
    out = io.BytesIO()
    # The PDF writer decodes and compresses the pixels again: a quick encoding will do.
    framed.save(out, format="PNG", compress_level=1)
    return out.getvalue()
