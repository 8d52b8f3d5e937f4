"""One PDF per multipart request: the upload contract the seal and verify routes share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException

from notarium.errors import ValidationError


class InvalidUpload(ValidationError):
    code = "INVALID_UPLOAD"


@asynccontextmanager
async def single_file_form(
    request: Request, *, max_fields: int
) -> AsyncIterator[tuple[FormData, UploadFile]]:
    """The form and its one file, in the field ``file``; every temporary file the parser
    spooled is closed when the block ends."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        raise InvalidUpload("Send the PDF as multipart/form-data with the field `file`.")
    try:
        # Parts over 1 MiB spool to disk, so memory stays bounded whatever the upload.
        form = await request.form(max_files=2, max_fields=max_fields)
    except MultiPartException as exc:
        raise InvalidUpload(f"The multipart body cannot be read: {exc.message}") from None
    try:
        files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if len(files) != 1 or not isinstance(form.get("file"), UploadFile):
            raise InvalidUpload("Send exactly one file, in the field `file`.", code="FILE_COUNT")
        yield form, files[0]
    finally:
        await form.close()
