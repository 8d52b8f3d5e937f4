"""PAdES seals with pyHanko, time-stamped by notarium's own TSA in process.

An already signed document is sealed by incremental update, so every earlier
signature keeps covering exactly the bytes it covered before.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import IO, Any, Final, Literal

from asn1crypto import cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers import FetcherBackend
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.registry import SimpleCertificateStore

from notarium.formats.pdf_structure import check_structure
from notarium.ledger.tsa.stamper import TimeStamper as Stamper
from notarium.products.pdf_seal.errors import (
    EmptyPdfError,
    EncryptedPdfError,
    MalformedPdfError,
    NotAPdfError,
    PdfTooLargeError,
    SealingError,
)
from notarium.products.pdf_seal.material import SealMaterial
from notarium.products.pdf_seal.stamp import check_stamp, stamp_style, stamp_text_params

MAX_PDF_SIZE: Final = 10 * 1024 * 1024
#: PDF readers accept the header anywhere in the first kilobyte (ISO 32000-2 §7.5.2
#: implementation note); some generators prepend a few bytes of junk.
_HEADER_WINDOW: Final = 1024
_PDF_MAGIC: Final = b"%PDF-"
_BYTE_RANGE: Final = re.compile(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+\d+\s*\]")

SealLevel = Literal["B-T", "B-LT", "B-LTA"]
LEVELS: Final[tuple[SealLevel, ...]] = ("B-T", "B-LT", "B-LTA")


@dataclass(frozen=True)
class VisibleStamp:
    """Where the visible seal appears: ``page`` counts from 0 (negative from the end),
    ``rect`` is (x1, y1, x2, y2) in PDF points from the page's lower left corner."""

    page: int
    rect: tuple[int, int, int, int]


@dataclass(frozen=True)
class RevocationInfo:
    """DER CRLs and OCSP responses to embed, instead of fetching them over HTTP."""

    crls: tuple[bytes, ...] = ()
    ocsps: tuple[bytes, ...] = ()


class PyHankoTimeStamper(TimeStamper):
    """pyHanko's time-stamper interface over a notarium :class:`Stamper`, so a seal's
    token comes from the same stamper as every other token, with no HTTP round trip."""

    def __init__(self, stamper: Stamper) -> None:
        super().__init__(include_nonce=False)  # type: ignore[no-untyped-call]
        self._stamper = stamper

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        try:
            issued = self._stamper.stamp(message_digest, hash_algo=md_algorithm)
        except Exception as exc:
            # What pyHanko raises for a refused request, so a seal fails the same way
            # whichever authority stamped it.
            raise TimestampRequestError(f"the time-stamp authority refused: {exc}") from exc
        return cms.ContentInfo.load(issued.der)


class Sealer:
    """Seals PDFs with one seal certificate and one time-stamper.

    With ``revocation`` left out, B-LT and B-LTA seals fetch revocation information
    from the URLs in the certificates; a provider makes sealing independent of the
    network (and of the server reaching itself).
    """

    def __init__(
        self,
        material: SealMaterial,
        timestamper: TimeStamper,
        *,
        organisation: str,
        revocation: Callable[[], RevocationInfo] | None = None,
        max_size: int = MAX_PDF_SIZE,
    ) -> None:
        self._material = material
        self._timestamper = timestamper
        self._organisation = organisation
        self._revocation = revocation
        self._max_size = max_size
        self._certificate = _asn1_certificate(material.certificate)
        self._ca_certificate = _asn1_certificate(material.ca_certificate)
        key_der = material.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Room for the signature in /Contents, learnt from the first seal. Left to
        # itself, pyHanko sizes it by building and signing a whole dummy signature, a
        # third of a seal's work, and the size only changes with the certificates.
        self._reserved: int | None = None
        self._signer = signers.SimpleSigner(
            signing_cert=self._certificate,
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                [self._ca_certificate]
            ),
        )

    def seal(
        self,
        pdf: bytes | IO[bytes],
        *,
        reason: str | None = None,
        level: SealLevel = "B-T",
        visible: VisibleStamp | None = None,
    ) -> bytes:
        """Return the sealed document; blocks, so async callers use :meth:`async_seal`."""
        # The coroutine hands back the stream, not its bytes: in the main thread
        # asyncio.run's SIGINT bookkeeping formats the main task's repr, result included,
        # and the repr of a multi-megabyte bytes object costs tens of milliseconds.
        sealed = asyncio.run(self._seal(pdf, reason=reason, level=level, visible=visible))
        return sealed.getvalue()

    async def async_seal(
        self,
        pdf: bytes | IO[bytes],
        *,
        reason: str | None = None,
        level: SealLevel = "B-T",
        visible: VisibleStamp | None = None,
    ) -> bytes:
        sealed = await self._seal(pdf, reason=reason, level=level, visible=visible)
        return sealed.getvalue()

    async def _seal(
        self,
        pdf: bytes | IO[bytes],
        *,
        reason: str | None,
        level: SealLevel,
        visible: VisibleStamp | None,
    ) -> BytesIO:
        if level not in LEVELS:
            raise SealingError(f"unknown PAdES level {level!r}; use one of {', '.join(LEVELS)}")
        data = _read_input(pdf, self._max_size)
        reserved = self._reserved
        if reserved is not None:
            try:
                return await self._sign(data, reason, level, visible, reserved)
            except SealingError:
                # Whatever went wrong, pyHanko's own estimate decides on the retry.
                self._reserved = None
        sealed = await self._sign(data, reason, level, visible, None)
        self._reserved = _contents_space(sealed, len(data))
        return sealed

    async def _sign(
        self,
        data: bytes,
        reason: str | None,
        level: SealLevel,
        visible: VisibleStamp | None,
        reserved: int | None,
    ) -> BytesIO:
        writer = _open_writer(data)
        field_name = f"Seal-{uuid.uuid4().hex}"
        if visible is not None:
            check_stamp(writer, visible.page, visible.rect)
            fields.append_signature_field(
                writer,
                fields.SigFieldSpec(
                    sig_field_name=field_name, on_page=visible.page, box=visible.rect
                ),
            )
        long_term = level != "B-T"
        fetcher_backend: FetcherBackend | None = None
        validation_context: ValidationContext | None = None
        if long_term:
            validation_context, fetcher_backend = self._validation_context()
        metadata = signers.PdfSignatureMetadata(
            field_name=field_name,
            reason=reason,
            name=self._organisation,
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=long_term,
            use_pades_lta=level == "B-LTA",
            validation_context=validation_context,
        )
        pdf_signer = signers.PdfSigner(
            metadata,
            signer=self._signer,
            timestamper=self._timestamper,
            stamp_style=stamp_style(),
        )
        output = BytesIO()
        text_params = stamp_text_params(self._organisation, reason)
        try:
            await pdf_signer.async_sign_pdf(
                writer,
                output=output,
                appearance_text_params=text_params,
                bytes_reserved=reserved,
            )
        except (SigningError, PdfError) as exc:
            raise SealingError(f"the document could not be sealed: {exc}") from exc
        finally:
            if fetcher_backend is not None:
                # The validation context never closes a backend it was handed; an open
                # HTTP session would leak a socket per seal.
                await fetcher_backend.close()  # type: ignore[no-untyped-call]
        return output

    def _validation_context(self) -> tuple[ValidationContext, FetcherBackend | None]:
        if self._revocation is None:
            backend = AIOHttpFetcherBackend()
            context = ValidationContext(
                trust_roots=[self._ca_certificate],
                other_certs=[self._certificate],
                allow_fetching=True,
                fetcher_backend=backend,
            )
            return context, backend
        info = self._revocation()
        return ValidationContext(
            trust_roots=[self._ca_certificate],
            other_certs=[self._certificate],
            crls=list(info.crls),
            ocsps=list(info.ocsps),
            allow_fetching=False,
        ), None


def _asn1_certificate(certificate: Any) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _read_input(pdf: bytes | IO[bytes], max_size: int) -> bytes:
    # One byte beyond the limit tells "too large" apart without reading it all.
    data = bytes(pdf) if isinstance(pdf, bytes | bytearray) else pdf.read(max_size + 1)
    if not data:
        raise EmptyPdfError("the document is empty")
    if len(data) > max_size:
        raise PdfTooLargeError(f"the document is larger than {max_size} bytes")
    if _PDF_MAGIC not in data[:_HEADER_WINDOW]:
        raise NotAPdfError("the document is not a PDF (no %PDF- header)")
    return data


def _contents_space(sealed: BytesIO, start: int) -> int | None:
    """The /Contents room of the first signature written after ``start``: the gap its
    /ByteRange leaves, less the string's angle brackets."""
    with sealed.getbuffer() as view:
        match = _BYTE_RANGE.search(view, start)
        if match is None:
            return None
        return int(bytes(match[2])) - int(bytes(match[1])) - 2


def _open_writer(data: bytes) -> IncrementalPdfFileWriter:
    try:
        writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
        encrypted = writer.prev.encrypted
    except Exception as exc:
        raise MalformedPdfError("the document is not a readable PDF") from exc
    if encrypted:
        raise EncryptedPdfError("encrypted documents cannot be sealed")
    # Parsing is lazy; checking the structure surfaces a broken document here rather
    # than half-way through signing.
    check_structure(writer.prev)
    return writer
