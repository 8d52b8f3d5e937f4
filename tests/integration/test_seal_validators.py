"""POST /api/v1/seal judged by the field's own validators, end to end over HTTP.

pyHanko's CLI (`sign validate`, and `sign adesverify` for the archival level) and
poppler's `pdfsig` against an NSS database holding the service CA; the visible stamp is
rendered with `pdftoppm`. The seal certificate names the service's own /pki CRL and OCSP
routes, so the in-process app is also served on a loopback port where both validators
fetch revocation information, exactly as they do from a real `notarium serve`.

What poppler 22.12 (Debian 12's pdfsig) can and cannot say, found by running it under
gdb, decides a few expectations here:

- It validates only adbe.pkcs7.* and ETSI.CAdES.detached signatures. For the B-LTA
  document time-stamp (/SubFilter /ETSI.RFC3161) it prints the TSA as signer, "Signature
  Type: unknown", the epoch as signing time and "Signature has not yet been verified.",
  and no certificate line at all (stderr: "Unable to validate this type of signature").
  The time-stamp is checked by pyHanko instead: `adesverify` uses it as the proof of
  existence and warns when it cannot.
- It ignores CERT_PKIXVerifyCert's result and reads NSS's thread error code, so a stale
  code from a successful verification turns into "Unknown issue with Certificate or
  corrupted data.". A successful OCSP answer leaves the code clear, so the seal is
  "Certificate is Trusted." only while /pki/ocsp answers (hence the served port).
- It imports each signature's certificates as temporary NSS certificates without
  copying their DER. When a second signature carries the same seal certificate, NSS may
  compare it against the first copy after that memory was freed and refuse it as
  SEC_ERROR_REUSED_ISSUER_AND_SERIAL, although the DER is byte-identical in both
  signatures; whether it does depends on heap layout, which is why it once looked like a
  matter of organisation names. With the seal certificate stored in the NSS database
  (no trust of its own: it still has to chain to the CA) every seal is trusted.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageChops
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from server import Server, free_port, server_env

from conftest import Tenant
from notarium.app.runtime import Runtime
from notarium.app.settings import Settings
from readiness import wait_for
from unit.sealing.support import CERTUTIL, PDFSIG, PYHANKO, make_pdf, page_text

# Non-ASCII letters and the punctuation that needs quoting in a distinguished name.
ORGANISATION = 'Müller & Söhne, S.à r.l. (Zürich) "Ost"'
REASON = "Geprüft – Vertrag Nr. 7 (§ 4), 5 €"
VALID = "Signature is Valid."
TRUSTED = "Certificate is Trusted."
LEVELS = ("B-T", "B-LT", "B-LTA")
STAMP = {"visible": "true", "page": "1", "x1": "72", "y1": "72", "x2": "372", "y2": "172"}


# -- the validators ------------------------------------------------------------------


@dataclass
class PdfSig:
    signatures: list[dict[str, str]]
    stderr: str


@dataclass
class PyHanko:
    returncode: int
    verdicts: dict[str, str]
    stdout: str
    stderr: str


@dataclass
class Tools:
    """pyHanko's CLI and pdfsig trusting one CA, each run on a file of its own."""

    directory: Path
    keys: Path
    ca: Path
    nss: Path
    count: int = 0
    trusted: list[Path] = field(default_factory=list)

    @classmethod
    def create(cls, directory: Path, keys: Path) -> Tools:
        """``keys``: the service's key directory, for its CA and TSA certificates."""
        missing = [n for n, p in (("pdfsig", PDFSIG), ("certutil", CERTUTIL)) if p is None]
        if not PYHANKO.exists():
            missing.append("pyhanko")
        if missing:
            pytest.fail(f"validators not installed: {', '.join(missing)} (scripts/system-deps.sh)")
        ca = directory / "ca.pem"
        ca.write_bytes((keys / "ca.cert.pem").read_bytes())
        nss = directory / "nss"
        nss.mkdir()
        tools = cls(directory, keys, ca, nss, trusted=[ca])
        tools.certutil("-N", "--empty-password")
        # C in the second field: a CA trusted to issue e-mail (S/MIME) signers, the usage
        # poppler asks NSS to verify a signer for.
        tools.certutil("-A", "-n", "notarium-ca", "-t", "CT,C,C", "-i", str(ca))
        return tools

    def certutil(self, *args: str) -> None:
        assert CERTUTIL is not None
        subprocess.run(
            [CERTUTIL, "-d", f"sql:{self.nss}", *args], check=True, capture_output=True, timeout=60
        )

    def store_certificate(self, name: str, pem: bytes, trust: str = ",,") -> Path:
        path = self.directory / f"{name}.pem"
        path.write_bytes(pem)
        self.certutil("-A", "-n", name, "-t", trust, "-i", str(path))
        return path

    def file(self, pdf: bytes) -> Path:
        self.count += 1
        path = self.directory / f"doc-{self.count}.pdf"
        path.write_bytes(pdf)
        return path

    def pyhanko(self, command: str, pdf: bytes) -> PyHanko:
        trust = [arg for ca in self.trusted for arg in ("--trust", str(ca))]
        result = subprocess.run(
            [str(PYHANKO), "sign", command, *trust, "--trust-replace", str(self.file(pdf))],
            capture_output=True,
            text=True,
            timeout=180,
        )
        # The summary is one "<field>:<sha256 of the signer certificate>:<status>" line
        # per signature.
        verdicts = {
            m["field"]: m["status"]
            for m in re.finditer(
                r"^(?P<field>[^:\n]+):[0-9a-f]{64}:(?P<status>.*)$", result.stdout, re.M
            )
        }
        return PyHanko(result.returncode, verdicts, result.stdout, result.stderr)

    def pdfsig(self, pdf: bytes) -> PdfSig:
        assert PDFSIG is not None
        result = subprocess.run(
            [PDFSIG, "-nssdir", f"sql:{self.nss}", str(self.file(pdf))],
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "TZ": "UTC"},
        )
        signatures: list[dict[str, str]] = []
        for line in result.stdout.splitlines():
            if line.startswith("Signature #"):
                signatures.append({})
            elif line.strip().startswith("- ") and signatures:
                key, _, value = line.strip()[2:].partition(": ")
                signatures[-1][key] = value
        return PdfSig(signatures, result.stderr)


def assert_pyhanko_trusts(result: PyHanko, seals: int) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(result.verdicts) == seals, result.stdout
    for verdict in result.verdicts.values():
        assert verdict.startswith("INTACT:TRUSTED,"), result.stdout
        assert "TIMESTAMP_TOKEN<INTACT:TRUSTED>" in verdict, result.stdout


def assert_archival(result: PyHanko) -> None:
    """`adesverify` validates AdES-style: the document time-stamp must give the seal its
    proof of existence, which needs the TSA's chain and revocation data in the file."""
    assert result.returncode == 0, result.stdout + result.stderr
    assert [v.split(",")[0] for v in result.verdicts.values()] == ["INTACT:TRUSTED"]
    assert "proof of existence" not in result.stderr, result.stderr
    assert "WARNING" not in result.stderr, result.stderr


def unescape(value: str) -> str:
    """NSS prints name values with RFC 4514 backslash escapes (``\\"``)."""
    return re.sub(r"\\(.)", r"\1", value)


def seals_of(report: PdfSig) -> list[dict[str, str]]:
    return [s for s in report.signatures if s.get("Signature Type") == "ETSI.CAdES.detached"]


def assert_document_timestamp_unverified(report: PdfSig, keys: Path) -> None:
    """Exactly what poppler 22.12 says of a PAdES document time-stamp (see the module
    docstring): it names the TSA and stops before checking anything."""
    (stamp,) = [s for s in report.signatures if s.get("Signature Type") != "ETSI.CAdES.detached"]
    tsa = x509.load_pem_x509_certificate((keys / "tsa.cert.pem").read_bytes())
    (name,) = tsa.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert unescape(stamp["Signer Certificate Common Name"]) == name.value
    assert stamp["Signature Type"] == "unknown"
    assert stamp["Signing Time"] == "Jan 01 1970 00:00:00"
    assert stamp["Signature Validation"] == "Signature has not yet been verified."
    assert "Certificate Validation" not in stamp
    assert "Unable to validate this type of signature" in report.stderr


def tamper(pdf: bytes) -> bytes:
    """One byte changed in the first page's text, inside every signature's range."""
    assert pdf.count(page_text(0)) == 1
    return pdf.replace(page_text(0), b"J" + page_text(0)[1:])


# -- fixtures: the app served on loopback, so the certificate's /pki URLs answer --------


@pytest.fixture
def pki_port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: Settings, pki_port: int) -> Settings:
    return settings.model_copy(
        update={"base_url": f"http://127.0.0.1:{pki_port}", "organisation": ORGANISATION}
    )


@pytest.fixture
def served(app: FastAPI, pki_port: int) -> Iterator[str]:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=pki_port,
        lifespan="off",
        ws="none",
        log_config=None,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(
        lambda: server.started,
        "the PKI server starting",
        alive=lambda: None if thread.is_alive() else "uvicorn stopped",
    )
    yield f"http://127.0.0.1:{pki_port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def tools(tmp_path: Path, runtime: Runtime) -> Tools:
    return Tools.create(tmp_path, runtime.keystore.keys_dir)


def seal(
    client: TestClient, tenant: Tenant, pdf: bytes, **fields: str
) -> tuple[bytes, httpx.Response]:
    response = client.post(
        "/api/v1/seal",
        headers=tenant.auth,
        files={"file": ("contract.pdf", pdf, "application/pdf")},
        data=fields,
    )
    assert response.status_code == 200, response.text
    return response.content, response


# -- every level, both validators, and a changed byte ----------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_each_level_passes_both_validators_and_a_changed_byte_fails_both(
    client: TestClient, tenant: Tenant, served: str, tools: Tools, level: str
) -> None:
    sealed, _ = seal(client, tenant, make_pdf(), reason=REASON, level=level)

    assert_pyhanko_trusts(tools.pyhanko("validate", sealed), 1)
    report = tools.pdfsig(sealed)
    (mark,) = seals_of(report)
    assert mark["Signature Validation"] == VALID, report
    assert mark["Certificate Validation"] == TRUSTED, report
    assert unescape(mark["Signer Certificate Common Name"]) == f"{ORGANISATION} Seal"
    if level == "B-LTA":
        assert_archival(tools.pyhanko("adesverify", sealed))
        assert_document_timestamp_unverified(report, tools.keys)
    else:
        assert len(report.signatures) == 1, report

    broken = tamper(sealed)
    refused = tools.pyhanko("validate", broken)
    assert refused.returncode == 1, refused.stdout
    assert not any(v.startswith("INTACT") for v in refused.verdicts.values()), refused.stdout
    assert "INVALID" in refused.stdout
    (mark,) = seals_of(tools.pdfsig(broken))
    assert mark["Signature Validation"] == "Digest Mismatch."
    if level == "B-LTA":
        assert tools.pyhanko("adesverify", broken).returncode == 1


def test_reason_and_organisation_are_in_the_signature_and_certificate(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    sealed, _ = seal(client, tenant, make_pdf(), reason=REASON)

    (signature,) = PdfFileReader(io.BytesIO(sealed)).embedded_signatures
    assert signature.sig_object["/Reason"] == REASON
    assert signature.sig_object["/Name"] == ORGANISATION
    certificate = x509.load_der_x509_certificate(signature.signer_cert.dump())
    subject = {a.oid: a for a in certificate.subject}
    assert subject[NameOID.ORGANIZATION_NAME].value == ORGANISATION
    assert subject[NameOID.COMMON_NAME].value == f"{ORGANISATION} Seal"
    # UTF8String (RFC 5280 §4.1.2.6), and the issuer exactly the CA's encoded subject.
    assert subject[NameOID.ORGANIZATION_NAME]._type == x509.name._ASN1Type.UTF8String
    ca = x509.load_pem_x509_certificate(runtime.keystore.path("ca.cert.pem").read_bytes())
    assert certificate.issuer.public_bytes() == ca.subject.public_bytes()
    # A common name holds 64 bytes: "<organisation> Time-Stamping Authority" would not.
    tsa = x509.load_pem_x509_certificate(runtime.keystore.path("tsa.cert.pem").read_bytes())
    (tsa_name,) = tsa.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert len(f"{ORGANISATION} Time-Stamping Authority".encode()) > 64
    assert str(tsa_name.value).endswith("\u2026 Time-Stamping Authority")
    assert len(str(tsa_name.value).encode()) <= 64
    assert tsa.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == ORGANISATION


def test_an_organisation_too_long_for_a_certificate_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        Settings(organisation="Ä" * 33)  # 66 bytes of UTF-8
    assert Settings(organisation="Ä" * 32).organisation == "Ä" * 32


# -- the visible stamp ---------------------------------------------------------------


def render(pdf: bytes, page: int, directory: Path, name: str) -> Image.Image:
    source = directory / f"{name}.pdf"
    source.write_bytes(pdf)
    pages = ["-f", str(page), "-l", str(page)]
    subprocess.run(
        ["pdftoppm", "-png", "-r", "72", *pages, "-singlefile", str(source), str(directory / name)],
        check=True,
        timeout=60,
    )
    return Image.open(directory / f"{name}.png").convert("RGB")


def test_visible_stamp_is_drawn_in_its_rectangle_only(
    client: TestClient, tenant: Tenant, served: str, tools: Tools, tmp_path: Path
) -> None:
    original = make_pdf(pages=2)
    sealed, _ = seal(client, tenant, original, reason=REASON, **STAMP)

    before = render(original, 2, tmp_path, "before")
    after = render(sealed, 2, tmp_path, "after")
    assert before.size == after.size == (612, 792)  # one pixel per point at 72 dpi
    # PDF space has its origin at the bottom left, the image at the top left.
    box = (72, 792 - 172, 372, 792 - 72)
    white = ((255, 255), (255, 255), (255, 255))
    assert before.crop(box).getextrema() == white
    inked = 300 * 100 - after.crop(box).convert("L").histogram()[255]
    assert inked > 0.02 * 300 * 100, inked  # a border and three lines of text
    changed = ImageChops.difference(before, after).getbbox()
    assert changed is not None
    left, top, right, bottom = changed
    assert box[0] - 1 <= left and top >= box[1] - 1 and right <= box[2] + 1
    assert bottom <= box[3] + 1
    first_page = (render(original, 1, tmp_path, "p1"), render(sealed, 1, tmp_path, "p1s"))
    assert ImageChops.difference(*first_page).getbbox() is None

    # poppler reads the stamp back as the text it shows: the font's encoding matches.
    text = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", str(tmp_path / "after.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert f"Sealed by {ORGANISATION}\n" in text
    assert f"Reason: {REASON}\n" in text
    assert re.search(r"^Time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", text, re.M), text

    (signature,) = PdfFileReader(io.BytesIO(sealed)).embedded_signatures
    assert [int(v) for v in signature.sig_field["/Rect"]] == [72, 72, 372, 172]
    assert_pyhanko_trusts(tools.pyhanko("validate", sealed), 1)
    (mark,) = seals_of(tools.pdfsig(sealed))
    assert (mark["Signature Validation"], mark["Certificate Validation"]) == (VALID, TRUSTED)


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"page": "2"}, "INVALID_STAMP", "page 2 is outside a 2-page document"),
        ({"page": "-3"}, "INVALID_STAMP", "page -3 is outside a 2-page document"),
        ({"x2": "50"}, "INVALID_STAMP", "positive width and height"),
        ({"y1": "172"}, "INVALID_STAMP", "positive width and height"),
        ({"x2": "700"}, "INVALID_STAMP", "must lie within page 1, which spans (0, 0, 612, 792)"),
        ({"y1": "-10"}, "INVALID_STAMP", "must lie within page 1"),
        ({"page": "last"}, "INVALID_UPLOAD", "must be integers"),
        ({"x1": "7.5"}, "INVALID_UPLOAD", "must be integers"),
    ],
)
def test_stamp_off_the_document_is_a_clear_400(
    client: TestClient, tenant: Tenant, fields: dict[str, str], code: str, message: str
) -> None:
    response = client.post(
        "/api/v1/seal",
        headers=tenant.auth,
        files={"file": ("contract.pdf", make_pdf(pages=2), "application/pdf")},
        data={**STAMP, **fields},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert message in error["message"]
    assert error["request_id"]


def contents_room(sealed: bytes, index: int = 0) -> int:
    """Hex digits reserved for a signature's /Contents: its ByteRange gap less the angle
    brackets."""
    signature = PdfFileReader(io.BytesIO(sealed)).embedded_signatures[index]
    _, end, start, _ = signature.sig_object["/ByteRange"]
    return int(start) - int(end) - 2


def test_signature_room_is_sized_once_and_a_short_one_recovers(
    client: TestClient, tenant: Tenant, runtime: Runtime, served: str, tools: Tools
) -> None:
    sealer = runtime.seal.sealer
    first, _ = seal(client, tenant, make_pdf())
    learnt = contents_room(first)
    # pyHanko's estimate: a dummy signature's size plus half again, in hex digits.
    assert 4_000 < learnt < 40_000
    assert sealer._reserved == learnt
    archival, _ = seal(client, tenant, make_pdf(pages=2), level="B-LTA")
    assert contents_room(archival) == learnt
    assert_pyhanko_trusts(tools.pyhanko("validate", archival), 1)

    # Far too little room for any signature: the seal is redone with pyHanko's estimate,
    # which varies by a few digits with the length of the dummy ECDSA signature.
    sealer._reserved = 64
    again, _ = seal(client, tenant, make_pdf())
    assert abs(contents_room(again) - learnt) <= 16
    assert sealer._reserved == contents_room(again)
    assert_pyhanko_trusts(tools.pyhanko("validate", again), 1)


# -- documents that are already signed -------------------------------------------------


def _foreign_signer(tools: Tools) -> signers.SimpleSigner:
    """Someone else's signing certificate, under a CA of their own."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Other Party CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    usage = dict.fromkeys(
        (
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Jane Signer")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=True, **usage),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    tools.trusted.append(tools.store_certificate("other-ca", ca_pem, "CT,C,C"))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = signers.SimpleSigner.load(
        _write(tools, key_pem),
        _write(tools, leaf.public_bytes(serialization.Encoding.PEM)),
        ca_chain_files=(_write(tools, ca_pem),),
    )
    assert signer is not None
    return signer


def _write(tools: Tools, data: bytes) -> str:
    tools.count += 1
    path = tools.directory / f"material-{tools.count}.pem"
    path.write_bytes(data)
    return str(path)


def test_sealing_someone_elses_signed_pdf_keeps_their_signature_valid(
    client: TestClient, tenant: Tenant, served: str, tools: Tools
) -> None:
    signer = _foreign_signer(tools)
    out = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(make_pdf()), strict=False),
        signers.PdfSignatureMetadata(field_name="Jane", reason="I agree"),
        signer=signer,
        output=out,
    )
    signed = out.getvalue()

    sealed, _ = seal(client, tenant, signed, reason=REASON, level="B-LT")

    assert sealed.startswith(signed)  # an incremental update: her bytes are untouched
    result = tools.pyhanko("validate", sealed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.verdicts["Jane"].startswith("INTACT:TRUSTED,"), result.stdout
    (ours,) = [v for name, v in result.verdicts.items() if name != "Jane"]
    assert ours.startswith("INTACT:TRUSTED,") and "TIMESTAMP_TOKEN<INTACT:TRUSTED>" in ours
    report = tools.pdfsig(sealed)
    assert report.signatures[0]["Signature Field Name"] == "Jane"
    assert all(s["Signature Validation"] == VALID for s in report.signatures), report
    assert seals_of(report)[-1]["Certificate Validation"] == TRUSTED, report


def test_sealing_a_sealed_pdf_again_keeps_the_first_seal_valid(
    client: TestClient, tenant: Tenant, served: str, tools: Tools, runtime: Runtime
) -> None:
    first, _ = seal(client, tenant, make_pdf(), reason="first")
    second, _ = seal(client, tenant, first, reason="second", level="B-LTA")

    assert second.startswith(first)
    assert_pyhanko_trusts(tools.pyhanko("validate", second), 2)
    # Both seals carry the same certificate: stored in the NSS database, poppler finds it
    # there rather than in freed memory (see the module docstring). It still has to chain
    # to the CA to be trusted.
    tools.store_certificate("seal", runtime.keystore.path("seal.cert.pem").read_bytes())
    report = tools.pdfsig(second)
    assert [(s["Signature Validation"], s["Certificate Validation"]) for s in seals_of(report)] == [
        (VALID, TRUSTED),
        (VALID, TRUSTED),
    ]
    assert_document_timestamp_unverified(report, tools.keys)


# -- a real server process -----------------------------------------------------------


@pytest.mark.slow
def test_real_server_seals_validate_at_every_level(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Server(data, server_env(data, NOTARIUM_ORGANISATION=ORGANISATION))
    # The certificates name this server's /pki routes, so the validators ask it.
    server.env["NOTARIUM_BASE_URL"] = server.url
    server.start()
    try:
        issued = json.loads(
            server.cli("keys", "create", "--account", "default", "--scope", "seal", "--json").stdout
        )
        tools = Tools.create(tmp_path, data / "keys")
        for level in LEVELS:
            response = httpx.post(
                f"{server.url}/api/v1/seal",
                headers={"Authorization": f"Bearer {issued['api_key']}"},
                files={"file": ("contract.pdf", make_pdf(pages=2), "application/pdf")},
                data={"reason": REASON, "level": level, **STAMP},
                timeout=120,
            )
            assert response.status_code == 200, response.text
            sealed = response.content

            assert_pyhanko_trusts(tools.pyhanko("validate", sealed), 1)
            report = tools.pdfsig(sealed)
            (mark,) = seals_of(report)
            assert (mark["Signature Validation"], mark["Certificate Validation"]) == (
                VALID,
                TRUSTED,
            ), report
            if level == "B-LTA":
                assert_archival(tools.pyhanko("adesverify", sealed))
                assert_document_timestamp_unverified(report, tools.keys)
                broken = tamper(sealed)
                assert tools.pyhanko("validate", broken).returncode == 1
                (mark,) = seals_of(tools.pdfsig(broken))
                assert mark["Signature Validation"] == "Digest Mismatch."
    finally:
        server.stop()
