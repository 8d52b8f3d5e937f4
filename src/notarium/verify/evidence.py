"""Offline verification of an evidence package: ``verify_evidence_package``.

Every check runs on its own and lands in the report, so one tampered file shows up as
exactly the check that covers it while the others still pass. Trust comes from the CA
certificates the caller supplies; without them the package's own ``keys/ca.cert.pem`` is
used, and the report says so (a package can then only show it is self-consistent).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from notarium.core.errors import NotariumError
from notarium.formats.canonical import canonical_json
from notarium.formats.chain import validate_chain
from notarium.formats.evidence.errors import EvidencePackageError
from notarium.formats.evidence.manifest import (
    ARTIFACT_KEYS,
    MANIFEST_FORMAT,
    MANIFEST_VERSION,
    SIGNATURE_KEYS,
    TOP_KEYS,
    WACZ_KEYS,
)
from notarium.formats.evidence.package import (
    ARTIFACT_FILES,
    CA_FILE,
    CERTIFICATE_FILE,
    KNOWN_FILES,
    MANIFEST,
    MANIFEST_SIG,
    MANIFEST_TSR,
    PROOF_FILE,
    PUBLIC_KEY_FILE,
    REQUIRED_FILES,
    TSA_CHAIN_FILE,
    WACZ_FILE,
    read_zip,
)
from notarium.formats.evidence.wacz import ARCHIVE_PATH, sha256_label
from notarium.formats.rfc3161.token import (
    check_tsa_certificate,
    parse_timestamp_token,
    verify_token_signature,
)
from notarium.formats.signing import signed_note_key_id, verify_ed25519
from notarium.verify.anchors import BlockHeaders
from notarium.verify.proof import verify_proof
from notarium.verify.report import Checklist, Report, Status
from notarium.verify.wacz import WaczContents, check_wacz_contents, check_wacz_signature


class CheckFailed(NotariumError):
    code = "EVIDENCE_CHECK_FAILED"


@dataclass(frozen=True)
class EvidenceReport(Report):
    trust: Literal["given", "packaged"]
    manifest_sha256: str | None = None
    capture: Mapping[str, Any] = field(default_factory=dict)


def _exact(value: Any, keys: frozenset[str], where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        found = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise CheckFailed(f"{where} must have exactly the keys {sorted(keys)}, has {found}")
    return value


def _load_manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckFailed(f"manifest.json is not JSON: {exc}") from exc
    if not isinstance(manifest, dict):
        raise CheckFailed("manifest.json is not a JSON object")
    if canonical_json(manifest) != data:
        raise CheckFailed("manifest.json is not in canonical form (RFC 8785, no extra bytes)")
    _exact(manifest, TOP_KEYS, "manifest")
    if manifest["format"] != MANIFEST_FORMAT or manifest["version"] != MANIFEST_VERSION:
        raise CheckFailed(
            f"manifest format {manifest['format']!r} version {manifest['version']!r} "
            "is not supported"
        )
    artifacts = manifest["artifacts"]
    if not isinstance(artifacts, list):
        raise CheckFailed("manifest artifacts must be a list")
    for index, artifact in enumerate(artifacts):
        _exact(artifact, ARTIFACT_KEYS, f"manifest artifacts[{index}]")
    paths = [a["path"] for a in artifacts]
    if sorted(paths) != sorted(ARTIFACT_FILES):
        raise CheckFailed(f"manifest lists {sorted(paths)}, expected {sorted(ARTIFACT_FILES)}")
    wacz = _exact(manifest["wacz"], WACZ_KEYS, "manifest wacz")
    if wacz["path"] != WACZ_FILE:
        raise CheckFailed(f"manifest wacz.path must be {WACZ_FILE}")
    _exact(wacz["warc"], frozenset({"path", "sha256"}), "manifest wacz.warc")
    _exact(manifest["signature"], SIGNATURE_KEYS, "manifest signature")
    if not isinstance(manifest["capture"], dict):
        raise CheckFailed("manifest capture must be an object")
    return manifest


def _pem_certificates(data: bytes, name: str) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise CheckFailed(f"{name} holds no PEM certificate") from None
    return certificates


@dataclass
class _Verifier:
    files: dict[str, bytes]
    roots: Sequence[x509.Certificate]
    pinned: Sequence[bytes]
    headers: BlockHeaders | None
    manifest: dict[str, Any] = field(default_factory=dict)
    public_key: bytes = b""
    wacz: WaczContents | None = None

    def artifact(self, entry: Mapping[str, Any]) -> Callable[[], str]:
        def check() -> str:
            data = self.files[entry["path"]]
            digest = hashlib.sha256(data).hexdigest()
            if digest != entry["sha256"] or len(data) != entry["bytes"]:
                raise CheckFailed(
                    f"{entry['path']} has SHA-256 {digest} ({len(data)} bytes); the manifest "
                    f"lists {entry['sha256']} ({entry['bytes']} bytes)"
                )
            return f"SHA-256 {digest}, {len(data)} bytes"

        return check

    def signature(self) -> str:
        declared = self.manifest["signature"]
        try:
            key = serialization.load_pem_public_key(self.files[PUBLIC_KEY_FILE])
        except ValueError:
            raise CheckFailed(f"{PUBLIC_KEY_FILE} is not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise CheckFailed(f"{PUBLIC_KEY_FILE} is not an Ed25519 key")
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if declared["algorithm"] != "ed25519":
            raise CheckFailed("the manifest signature algorithm must be ed25519")
        if base64.b64encode(raw).decode() != declared["public_key"]:
            raise CheckFailed(f"{PUBLIC_KEY_FILE} is not the key the manifest names")
        if declared["key_id"] != signed_note_key_id(str(declared["key_name"]), raw):
            raise CheckFailed("the manifest's key_id does not belong to its key")
        if self.pinned and raw not in self.pinned:
            raise CheckFailed("the manifest is signed by a key other than the pinned one(s)")
        if not verify_ed25519(raw, self.files[MANIFEST_SIG], self.files[MANIFEST]):
            raise CheckFailed("manifest.sig is not a valid Ed25519 signature of manifest.json")
        self.public_key = raw
        pinned = "pinned" if self.pinned else "not pinned: the key shipped in the package"
        return f"Ed25519 by {declared['key_name']} (key id {declared['key_id']}, {pinned})"

    def timestamp(self) -> str:
        try:
            response = tsp.TimeStampResp.load(self.files[MANIFEST_TSR], strict=True)
            status = response["status"]["status"].native
            token_der = response["time_stamp_token"].dump()
        except (ValueError, TypeError, KeyError) as exc:
            raise CheckFailed(f"manifest.tsr is not an RFC 3161 TimeStampResp: {exc}") from exc
        if status != "granted":
            raise CheckFailed(f"manifest.tsr status is {status}, not granted")
        token = parse_timestamp_token(token_der)
        digest = hashlib.sha256(self.files[MANIFEST]).digest()
        if token.imprint_algorithm != "sha256" or token.imprint != digest:
            raise CheckFailed("manifest.tsr time-stamps another digest than SHA-256(manifest.json)")
        chain = _pem_certificates(self.files[TSA_CHAIN_FILE], TSA_CHAIN_FILE)
        signer = verify_token_signature(token, chain)
        check_tsa_certificate(signer)
        validate_chain(signer, [*token.certificates, *chain], self.roots, token.gen_time)
        return (
            f"RFC 3161 token of {signer.subject.rfc4514_string()}, serial "
            f"{token.serial_number}, at {token.gen_time.isoformat()}"
        )

    def wacz_contents(self) -> str:
        contents = check_wacz_contents(self.files[WACZ_FILE])
        declared = self.manifest["wacz"]
        datapackage = hashlib.sha256(contents.files["datapackage.json"]).hexdigest()
        if datapackage != declared["datapackage_sha256"]:
            raise CheckFailed("datapackage.json is not the one the manifest names")
        warc = declared["warc"]
        if warc["path"] != ARCHIVE_PATH or contents.resource_hash(ARCHIVE_PATH) != (
            "sha256:" + str(warc["sha256"])
        ):
            raise CheckFailed("the WACZ's WARC is not the one the manifest names")
        self.wacz = contents
        count = len(contents.datapackage["resources"])
        label = sha256_label(contents.files["datapackage.json"])
        return f"{count} resources match datapackage.json, which matches its digest ({label})"

    def wacz_signature(self) -> str:
        if self.wacz is None:
            raise CheckFailed("the WACZ contents did not check out")
        facts = check_wacz_signature(self.wacz, self.roots)
        if facts.form == "anonymous":
            return "anonymous ECDSA signature (the key is not vouched for by a certificate)"
        stamp = facts.timestamp.isoformat() if facts.timestamp else "?"
        return (
            f"ECDSA by {facts.signer_subject} for {facts.domain}, time signature at {stamp} "
            f"by {facts.tsa_subject}"
        )

    def proof(self) -> str | tuple[Status, str]:
        if PROOF_FILE not in self.files:
            return "absent", "no proof.json in the package"
        digest = hashlib.sha256(self.files[MANIFEST]).hexdigest()
        report = verify_proof(
            self.files[PROOF_FILE],
            sha256=digest,
            trust_roots=self.roots,
            # The record is the service's own: signed by the key that signed the manifest.
            service_public_keys=list(self.pinned) or [self.public_key],
            headers=self.headers,
        )
        anchors = "anchored" if report.anchored else "anchors pending"
        return (
            f"record {report.certificate_id} of the manifest hash, time-stamped at "
            f"{report.gen_time.isoformat()}, {anchors}"
        )


def verify_evidence_package(
    data: bytes,
    *,
    trust_roots: Sequence[x509.Certificate] | None = None,
    service_public_keys: Sequence[bytes] = (),
    headers: BlockHeaders | None = None,
) -> EvidenceReport:
    """Check everything an evidence package claims; never raises for a bad package."""
    run = Checklist()
    trust: Literal["given", "packaged"] = "given" if trust_roots else "packaged"
    try:
        files = read_zip(data)
    except EvidencePackageError as exc:
        run.add("package", "failed", exc.message)
        return EvidenceReport(run.done(), trust)

    def structure() -> str:
        missing = [name for name in REQUIRED_FILES if name not in files]
        unknown = sorted(set(files) - KNOWN_FILES)
        if missing or unknown:
            parts = [f"missing {', '.join(missing)}"] if missing else []
            parts += [f"unexpected {', '.join(unknown)}"] if unknown else []
            raise CheckFailed("; ".join(parts))
        return f"{len(files)} files"

    if not run.run("package", structure):
        return EvidenceReport(run.done(), trust)

    roots: Sequence[x509.Certificate] = list(trust_roots or [])
    if not roots:
        try:
            roots = _pem_certificates(files[CA_FILE], CA_FILE)
        except CheckFailed as exc:
            run.add("trust", "failed", exc.message)
            return EvidenceReport(run.done(), trust)
    verifier = _Verifier(files, roots, list(service_public_keys), headers)

    def manifest() -> str:
        verifier.manifest = _load_manifest(files[MANIFEST])
        return f"capture {verifier.manifest['capture_id']} of {verifier.manifest['created']}"

    if not run.run("manifest", manifest):
        for name in (
            "artifacts",
            "manifest-signature",
            "manifest-timestamp",
            "wacz-contents",
            "wacz-signature",
            "proof",
        ):
            run.add(name, "skipped", "the manifest could not be read")
        return EvidenceReport(run.done(), trust)

    for entry in verifier.manifest["artifacts"]:
        run.run(f"artifact {entry['path']}", verifier.artifact(entry))
    run.run("manifest-signature", verifier.signature)
    run.run("manifest-timestamp", verifier.timestamp)
    if run.run("wacz-contents", verifier.wacz_contents):
        run.run("wacz-signature", verifier.wacz_signature)
    else:
        run.add("wacz-signature", "skipped", "the WACZ contents did not check out")
    if verifier.public_key or PROOF_FILE not in files:
        run.run("proof", verifier.proof)
    else:
        run.add("proof", "skipped", "the manifest signature did not check out")
    if CERTIFICATE_FILE in files:
        run.add(
            "certificate-pdf",
            "skipped",
            "sealed PDF, not covered by the manifest: check it with pyhanko or pdfsig",
        )
    return EvidenceReport(
        run.done(),
        trust,
        manifest_sha256=hashlib.sha256(files[MANIFEST]).hexdigest(),
        capture=verifier.manifest["capture"],
    )


def report_lines(report: EvidenceReport) -> list[str]:
    """The report as a person reads it: one line per check, then the verdict."""
    lines = [f"{check.status.upper():<8} {check.name}: {check.detail}" for check in report.checks]
    if report.trust == "packaged":
        lines.append(
            "NOTE     trust: the CA shipped inside the package was trusted; pass --trust "
            "with the service's published CA to make this verdict independent of the package"
        )
    if report.ok:
        lines.append(
            f"OK: evidence of {report.capture.get('final_url', '?')} "
            f"(manifest sha256 {report.manifest_sha256})"
        )
    else:
        lines.append("FAILED: " + ", ".join(check.name for check in report.failed))
    return lines


def report_json(report: EvidenceReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "kind": "evidence-package",
        "trust": report.trust,
        "manifest_sha256": report.manifest_sha256,
        "requested_url": report.capture.get("requested_url"),
        "final_url": report.capture.get("final_url"),
        "checks": [{"name": c.name, "status": c.status, "detail": c.detail} for c in report.checks],
    }
