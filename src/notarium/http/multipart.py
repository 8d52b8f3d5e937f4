"""One PDF per multipart request: the upload contract the seal and verify routes share."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from notarium.core.errors import ValidationError


class InvalidUpload(ValidationError):
    code = "INVALID_UPLOAD"


class _Parser(MultiPartParser):
    """Starlette's parser, refusing a body that ends before its closing boundary: cut
    short, it would parse without complaint, less its last part."""

    def __init__(self, request: Request, *, max_fields: int) -> None:
        self.ended = False
        super().__init__(
            request.headers,
            self._until_closed(request.stream()),
            max_files=2,
            max_fields=max_fields,
        )

    async def _until_closed(self, source: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
        async for chunk in source:
            yield chunk
        if not self.ended:
            # Raised inside the parser's read loop, so it closes the parts it spooled.
            raise MultiPartException("the body ends before its closing boundary; it was cut short")

    def on_end(self) -> None:
        self.ended = True
        super().on_end()


async def _read_form(request: Request, *, max_fields: int) -> FormData:
    parser = _Parser(request, max_fields=max_fields)
    try:
        # Parts over 1 MiB spool to disk, so memory stays bounded whatever the upload.
        async with aclosing(parser.stream):
            return await parser.parse()
    except (MultiPartException, UnicodeDecodeError) as exc:
        detail = exc.message if isinstance(exc, MultiPartException) else str(exc)
        raise InvalidUpload(f"The multipart body cannot be read: {detail}.") from None


@asynccontextmanager
async def single_file_form(
    request: Request, *, max_fields: int
) -> AsyncIterator[tuple[FormData, UploadFile]]:
    """The form and its one file, in the field ``file``; every temporary file the parser
    spooled is closed when the block ends."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        raise InvalidUpload("Send the PDF as multipart/form-data with the field `file`.")
    form = await _read_form(request, max_fields=max_fields)
    try:
        if isinstance(form.get("file"), str):
            raise InvalidUpload("`file` must be a file part (with a filename), not a text field.")
        files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if len(files) != 1 or not isinstance(form.get("file"), UploadFile):
            raise InvalidUpload("Send exactly one file, in the field `file`.", code="FILE_COUNT")
        yield form, files[0]
    finally:
        await form.close()
