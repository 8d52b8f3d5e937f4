"""Streams that record how they are read, to check that scanning stays chunked."""

from __future__ import annotations

import io


class RecordingStream(io.RawIOBase):
    """A readable stream over bytes that remembers the size of every read it served."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._position = 0
        self.reads: list[int] = []

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = len(self._data) - self._position
        chunk = bytes(self._data[self._position : self._position + size])
        self._position += len(chunk)
        if chunk:
            self.reads.append(len(chunk))
        return chunk

    @property
    def exhausted(self) -> bool:
        return self._position == len(self._data)
