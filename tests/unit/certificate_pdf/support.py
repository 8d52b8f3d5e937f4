"""Reading certificate PDFs back with independent tools: poppler and pyHanko's reader."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.crypt import StandardSecurityHandler
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer

from notarium.adapters.pki.keystore import KeyStore
from notarium.adapters.store import migrate
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.products.pdf_seal.material import load_ca
from unit.sealing.support import PkiServer, make_pdf

PDFTOTEXT = shutil.which("pdftotext")
PDFDETACH = shutil.which("pdfdetach")
PDFTOPPM = shutil.which("pdftoppm")


def _tool(path: str | None, name: str) -> str:
    if path is None:
        pytest.fail(f"{name} is not installed (poppler-utils, scripts/system-deps.sh)")
    return path


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "text-source.pdf"
    source.write_bytes(pdf)
    result = subprocess.run(
        [_tool(PDFTOTEXT, "pdftotext"), "-layout", str(source), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def detached_files(pdf: bytes, tmp_path: Path) -> dict[str, bytes]:
    """What poppler's ``pdfdetach -saveall`` finds in the document."""
    out = tmp_path / "detached"
    out.mkdir()
    source = tmp_path / "detach-source.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [_tool(PDFDETACH, "pdfdetach"), "-saveall", "-o", str(out), str(source)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return {path.name: path.read_bytes() for path in out.iterdir()}


def embedded_file_specs(pdf: bytes) -> dict[str, object]:
    """The file specification dictionaries of the EmbeddedFiles name tree, by name, as
    pyHanko's reader sees them."""
    reader = PdfFileReader(BytesIO(pdf))
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    return {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}


def page_count(pdf: bytes) -> int:
    return int(PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"])


def flip_byte_in_content(pdf: bytes) -> bytes:
    """The document with one byte of its first page's content stream changed: inside the
    range every signature covers."""
    reader = PdfFileReader(BytesIO(pdf))
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    contents = page.raw_get("/Contents")
    reference = (contents[0] if isinstance(contents, list) else contents).reference
    header = re.search(rb"(?<![0-9])%d %d obj" % (reference.idnum, reference.generation), pdf)
    assert header is not None
    position = pdf.index(b"stream", header.end()) + len(b"stream\n") + 10
    changed = bytearray(pdf)
    changed[position] ^= 0x01
    return bytes(changed)


@contextmanager
def reachable_pki(settings: Settings) -> Iterator[PkiServer]:
    """A CRL and OCSP responder on 127.0.0.1 for the CA in ``settings``' key directory, as a
    deployed server's own /pki routes would answer: pdfsig asks the responder the seal
    certificate names before it calls the certificate trusted."""
    KeyStore(settings.keys_dir, settings.organisation).ensure()
    with PkiServer(load_ca(settings.keys_dir)).running() as pki:
        yield pki


@contextmanager
def runtime_with_reachable_pki(settings: Settings) -> Iterator[Runtime]:
    """A runtime whose base URL, and so its seal certificate, names a reachable /pki."""
    with reachable_pki(settings) as pki:
        runtime = build_runtime(settings.model_copy(update={"base_url": pki.base_url}))
        try:
            migrate.upgrade(runtime.engine)
            yield runtime
        finally:
            runtime.close()


def encrypted_pdf() -> bytes:
    """A small PDF encrypted with a user password."""
    writer = copy_into_new_writer(PdfFileReader(BytesIO(make_pdf())))
    writer.security_handler = StandardSecurityHandler.build_from_pw("owner", "user")
    writer._encrypt = writer.add_object(writer.security_handler.as_pdf_object())
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def alter_signature_timestamp(pdf: bytes) -> bytes:
    """The PDF with its first signature's time-stamp token's genTime moved back a day.

    The token sits in the CMS's unsigned attributes, which neither the PDF's byte range
    nor the CMS signature covers, so the seal itself stays intact; only the token's own
    signature (its messageDigest over the TSTInfo) no longer matches. The TSTInfo is
    re-encoded at the same length and put back byte for byte.
    """
    from datetime import timedelta

    from asn1crypto import cms, core

    found = re.search(rb"/Contents\s*<([0-9A-Fa-f]+)>", pdf)
    assert found is not None, "no signature contents"
    der = bytes.fromhex(found.group(1).decode("ascii"))
    info = cms.ContentInfo.load(der)
    (signer,) = info["content"]["signer_infos"]
    token = next(
        attr["values"][0]
        for attr in signer["unsigned_attrs"]
        if attr["type"].native == "signature_time_stamp_token"
    )
    content = token["content"]["encap_content_info"]["content"]
    original = bytes(content.parsed.dump())
    altered_info = content.parsed.copy()
    altered_info["gen_time"] = core.GeneralizedTime(
        altered_info["gen_time"].native - timedelta(days=1)
    )
    altered = bytes(altered_info.dump(force=True))
    assert len(altered) == len(original) and der.count(original) == 1
    new_der = der.replace(original, altered)
    text = new_der.hex()
    text = text.upper() if found.group(1).isupper() else text
    start, end = found.span(1)
    return pdf[:start] + text.encode("ascii") + pdf[end:]
