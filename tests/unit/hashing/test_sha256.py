from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from notarium.core.errors import ValidationError
from notarium.core.hashing import (
    InvalidSha256Error,
    normalize_sha256_hex,
    sha256_bytes,
    sha256_file,
)

ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_sha256_bytes_known_vectors() -> None:
    assert sha256_bytes(b"abc") == ABC
    assert sha256_bytes(b"") == EMPTY
    assert sha256_bytes(bytearray(b"abc")) == ABC
    assert sha256_bytes(memoryview(b"xabc")[1:]) == ABC


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 * 4096 + 7])
def test_sha256_file_matches_hashlib_across_chunk_boundaries(tmp_path: Path, size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert sha256_file(path, chunk_size=4096) == hashlib.sha256(data).hexdigest()
    assert sha256_file(str(path)) == hashlib.sha256(data).hexdigest()


def test_sha256_file_reports_cumulative_progress(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10)
    seen: list[int] = []
    sha256_file(path, chunk_size=4, progress=seen.append)
    assert seen == [4, 8, 10]


def test_sha256_file_empty_file_reports_no_progress(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    seen: list[int] = []
    assert sha256_file(path, progress=seen.append) == EMPTY
    assert seen == []


def test_sha256_file_rejects_non_positive_chunk_size(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    with pytest.raises(ValueError, match="chunk_size"):
        sha256_file(path, chunk_size=0)


def test_sha256_file_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sha256_file(tmp_path / "missing")


def test_normalize_lowercases() -> None:
    assert normalize_sha256_hex(ABC.upper()) == ABC
    assert normalize_sha256_hex(ABC) == ABC
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(ABC))
    assert normalize_sha256_hex(mixed) == ABC


@pytest.mark.parametrize(
    "value",
    [
        ABC[:-1],
        ABC + "0",
        " " + ABC,
        ABC + "\n",
        ABC[:-1] + "g",
        "0x" + ABC[2:],
        "٠" * 64,  # Arabic-Indic digits are digits, but not hex
        "",
        ABC.encode(),
        int(ABC, 16),
        None,
        [ABC],
    ],
)
def test_normalize_rejects(value: object) -> None:
    with pytest.raises(InvalidSha256Error) as info:
        normalize_sha256_hex(value)
    assert isinstance(info.value, ValidationError)
    assert info.value.code == "INVALID_SHA256_HASH"
