"""Files carried inside a certificate PDF: embedded with pyHanko as proper embedded-file
streams, named in the document's EmbeddedFiles name tree and associated with the
document (``/AF``, PDF 2.0) so viewers list them.

Embedding writes its own incremental revision, which must come before the seal: a
signature covers the revisions before it, so the seal then covers the files too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from io import BytesIO

from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from notarium.products.certificate_pdf.errors import AttachmentError
from notarium.products.certificate_pdf.facts import Attachment


def embed_attachments(pdf: bytes, attachments: Sequence[Attachment], *, when: datetime) -> bytes:
    """``pdf`` with ``attachments`` added in one incremental update."""
    names = [a.name for a in attachments]
    if len(set(names)) != len(names):
        raise AttachmentError("attachment names must be unique")
    if not attachments:
        return pdf
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    # A name tree's keys must be sorted, and pyHanko appends: adding them in order keeps
    # the tree valid.
    for attachment in sorted(attachments, key=lambda a: a.name):
        data = embed.EmbeddedFileObject.from_file_data(
            writer,
            attachment.data,
            mime_type=attachment.mime_type,
            params=embed.EmbeddedFileParams(creation_date=when, modification_date=when),
        )
        embed.embed_file(
            writer,
            embed.FileSpec(
                file_spec_string=attachment.name,
                file_name=attachment.name,
                embedded_data=data,
                description=attachment.description,
                af_relationship=generic.pdf_name(f"/{attachment.relationship}"),
            ),
        )
    out = BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()
