from __future__ import annotations

import io
import json
import zipfile

import pytest

from notarium.formats.evidence.errors import EvidenceBuildError, EvidencePackageError
from notarium.formats.evidence.package import EvidencePackage, looks_like_evidence_package, read_zip
from notarium.ledger.tsa.fakes import FakeStamper
from notarium.ledger.tsa.stamper import InProcessStamper
from notarium.products.web_capture.evidence.ports import Timestamper
from notarium.products.web_capture.evidence.service import EvidenceService, signing_domain

from .captures import sample_capture
from .conftest import CAPTURE_ID, Pki, zip_entries

ENTRIES = [
    "manifest.json",
    "manifest.sig",
    "manifest.tsr",
    "capture.wacz",
    "capture.har",
    "screenshot.png",
    "dom.html",
    "keys/ed25519.pub.pem",
    "keys/ca.cert.pem",
    "keys/tsa-chain.pem",
    "README.txt",
]


def test_the_zip_holds_the_parts_in_order(package: EvidencePackage, pki: Pki) -> None:
    with zipfile.ZipFile(io.BytesIO(package.zip_bytes)) as archive:
        assert archive.namelist() == ENTRIES
        assert archive.getinfo("capture.wacz").compress_type == zipfile.ZIP_STORED
        assert archive.testzip() is None
    entries = zip_entries(package.zip_bytes)
    assert entries["manifest.json"] == package.manifest
    assert entries["capture.har"] == sample_capture().har
    assert entries["screenshot.png"] == sample_capture().screenshot_png
    assert entries["dom.html"] == sample_capture().dom_html.encode()
    assert entries["keys/tsa-chain.pem"] == pki.keystore.tsa_chain_pem()
    assert entries["keys/ca.cert.pem"] == pki.keys_dir.joinpath("ca.cert.pem").read_bytes()
    assert entries["keys/ed25519.pub.pem"] == (
        pki.keys_dir.joinpath("signing-ed25519.pub.pem").read_bytes()
    )
    assert package.filename == f"evidence-{CAPTURE_ID}.zip"
    assert looks_like_evidence_package(package.zip_bytes)
    assert not looks_like_evidence_package(package.wacz)
    assert not looks_like_evidence_package(b"%PDF-1.7")


def test_the_zip_is_reproducible(package: EvidencePackage) -> None:
    rebuilt = EvidencePackage(
        **{name: getattr(package, name) for name in package.__dataclass_fields__}
    )
    assert rebuilt.zip_bytes == package.zip_bytes


def test_proof_and_certificate_are_added_in_a_second_stage(package: EvidencePackage) -> None:
    proof = b'{"format":"notarium-proof"}'
    finished = package.with_files(proof_json=proof).with_files(certificate_pdf=b"%PDF-1.7 ...")
    entries = zip_entries(finished.zip_bytes)
    assert list(entries) == [*ENTRIES, "proof.json", "certificate.pdf"]
    assert entries["proof.json"] == proof
    assert finished.manifest_sha256 == package.manifest_sha256
    assert package.proof_json is None and "proof.json" not in zip_entries(package.zip_bytes)


def test_a_stored_package_is_read_back_unchanged(package: EvidencePackage) -> None:
    files = read_zip(package.zip_bytes)
    again = EvidencePackage.from_files(CAPTURE_ID, files)
    assert again == package
    assert again.zip_bytes == package.zip_bytes
    finished = again.with_files(proof_json=b"{}", certificate_pdf=b"%PDF-1.7")
    assert EvidencePackage.from_files(CAPTURE_ID, read_zip(finished.zip_bytes)) == finished
    with pytest.raises(EvidencePackageError, match="not other-capture"):
        EvidencePackage.from_files("other-capture", files)
    del files["manifest.tsr"]
    with pytest.raises(EvidencePackageError, match=r"lacks manifest\.tsr"):
        EvidencePackage.from_files(CAPTURE_ID, files)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exchanges": ()}, "no HTTP exchange"),
        ({"har": b"<html>"}, "not a HAR log"),
        ({"har": json.dumps({"log": {"version": "1.2", "entries": []}}).encode()}, "no entries"),
        ({"screenshot_png": b"\xff\xd8\xff\xe0 a JPEG"}, "not a PNG"),
    ],
)
def test_a_capture_without_usable_evidence_is_refused(
    service: EvidenceService, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(EvidenceBuildError, match=message) as raised:
        service.build(sample_capture(**changes), CAPTURE_ID)
    assert raised.value.code == "certification_failed"


def test_a_capture_id_is_required(service: EvidenceService) -> None:
    with pytest.raises(EvidenceBuildError, match="capture_id"):
        service.build(sample_capture(), "")


def test_an_assisted_capture_says_so(service: EvidenceService) -> None:
    built = service.build(sample_capture(assisted=True, consent_dismissed=()), CAPTURE_ID)
    capture = json.loads(built.manifest)["capture"]
    assert capture["assisted"] is True
    assert capture["consent_dismissed"] == []


def test_the_in_process_timestamper_is_a_timestamper(timestamper: InProcessStamper) -> None:
    assert isinstance(timestamper, Timestamper)


def test_signing_domain_is_the_base_url_host() -> None:
    assert signing_domain("https://notary.example.org:8443/base") == "notary.example.org"
    assert signing_domain("http://127.0.0.1:8000") == "127.0.0.1"
    with pytest.raises(EvidenceBuildError):
        signing_domain("not a url")


def test_the_manifest_token_comes_from_the_stamper(
    service: EvidenceService, timestamper: FakeStamper
) -> None:
    before = len(timestamper.stamped)
    built = service.build(sample_capture(), CAPTURE_ID)
    assert bytes.fromhex(built.manifest_sha256) in timestamper.stamped[before:]
