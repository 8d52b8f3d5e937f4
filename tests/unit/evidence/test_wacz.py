from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notarium.formats.evidence.facts import capture_facts
from notarium.formats.evidence.wacz import WaczArchive, build_wacz
from notarium.formats.evidence.warc import build_warc
from notarium.verify.wacz import WaczContentError, check_wacz_contents

from .captures import FINAL_URL, REQUESTED_URL, sample_capture
from .checks import run
from .conftest import edit_zip, tool, zip_entries

CREATED = datetime(2026, 11, 21, 9, 31, 5, 600000, tzinfo=UTC)


@pytest.fixture(scope="module")
def wacz() -> WaczArchive:
    capture = sample_capture()
    warc = build_warc(capture, software="notarium test", facts=capture_facts(capture))
    return build_wacz(warc, title=capture.title, created=CREATED, software="notarium test")


def validate(data: bytes, path: Path) -> tuple[int, str]:
    path.write_bytes(data)
    result = run(tool("wacz"), "validate", "-f", path)
    return result.returncode, result.stdout + result.stderr


def test_wacz_validate_accepts_the_archive(wacz: WaczArchive, tmp_path: Path) -> None:
    code, output = validate(wacz.data, tmp_path / "capture.wacz")
    assert code == 0, output
    assert "Version detected as 1.1.1" in output
    assert "Validation succeeded" in output


def test_layout_and_compression(wacz: WaczArchive) -> None:
    with zipfile.ZipFile(io.BytesIO(wacz.data)) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    assert list(infos) == [
        "archive/data.warc.gz",
        "indexes/index.cdx",
        "pages/pages.jsonl",
        "datapackage.json",
        "datapackage-digest.json",
    ]
    # Replay reads WARC records and index lines by offset: both must be stored as they are.
    assert infos["archive/data.warc.gz"].compress_type == zipfile.ZIP_STORED
    assert infos["indexes/index.cdx"].compress_type == zipfile.ZIP_STORED
    assert {info.date_time for info in infos.values()} == {(2026, 11, 21, 9, 31, 4)}


def test_datapackage_and_digest(wacz: WaczArchive) -> None:
    files = zip_entries(wacz.data)
    package = json.loads(files["datapackage.json"])
    assert package["profile"] == "data-package"
    assert package["wacz_version"] == "1.1.1"
    assert package["created"] == "2026-11-21T09:31:05Z"
    assert package["software"] == "notarium test"
    assert package["mainPageURL"] == FINAL_URL
    assert package["mainPageDate"] == "2026-11-21T09:30:00.145000Z"
    assert package["title"] == "Quarterly report — Example"
    for resource in package["resources"]:
        data = files[resource["path"]]
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource["bytes"] == len(data)
        assert resource["name"] == resource["path"].rsplit("/", 1)[1]
    assert [r["path"] for r in package["resources"]] == [
        "archive/data.warc.gz",
        "indexes/index.cdx",
        "pages/pages.jsonl",
    ]
    digest = json.loads(files["datapackage-digest.json"])
    assert digest == {
        "path": "datapackage.json",
        "hash": "sha256:" + hashlib.sha256(files["datapackage.json"]).hexdigest(),
    }
    assert wacz.warc_sha256 == hashlib.sha256(files["archive/data.warc.gz"]).hexdigest()


def test_pages_and_index(wacz: WaczArchive) -> None:
    files = zip_entries(wacz.data)
    header, page, *rest = [json.loads(line) for line in files["pages/pages.jsonl"].splitlines()]
    assert rest == []
    assert header["format"] == "json-pages-1.0" and header["id"] == "pages"
    assert page["url"] == FINAL_URL
    assert page["ts"] == "2026-11-21T09:30:00.145000Z"
    assert page["title"] == "Quarterly report — Example"

    lines = files["indexes/index.cdx"].decode().splitlines()
    assert lines == sorted(lines)
    entries = {}
    for line in lines:
        key, timestamp, fields = line.split(" ", 2)
        entries[json.loads(fields)["url"]] = (key, timestamp, json.loads(fields))
    assert set(entries) == {
        REQUESTED_URL,
        FINAL_URL,
        "https://www.example.test/static/site.css",
        "https://www.example.test/logo.png",
        f"urn:fullPage:{FINAL_URL}",
        f"urn:dom:{FINAL_URL}",
    }
    key, timestamp, fields = entries[FINAL_URL]
    assert key == "test,example)/article?id=7"
    assert timestamp == "20261121093000"
    assert fields["status"] == "200" and fields["mime"] == "text/html"
    assert fields["filename"] == "data.warc.gz"
    assert entries[REQUESTED_URL][2]["status"] == "301"
    # Offsets point at the records in the stored WARC.
    warc = files["archive/data.warc.gz"]
    offset, length = int(fields["offset"]), int(fields["length"])
    assert warc[offset : offset + 2] == b"\x1f\x8b"
    assert offset + length <= len(warc)


def test_an_edited_datapackage_fails_validation(wacz: WaczArchive, tmp_path: Path) -> None:
    forged = edit_zip(wacz.data, "datapackage.json", lambda d: d.replace(b"Quarterly", b"Annual"))
    code, output = validate(forged, tmp_path / "forged.wacz")
    assert code == 1
    assert "hash mismatch" in output
    with pytest.raises(WaczContentError, match=re.escape("does not match datapackage-digest.json")):
        check_wacz_contents(forged)


def test_an_edited_warc_fails_validation(wacz: WaczArchive, tmp_path: Path) -> None:
    forged = edit_zip(wacz.data, "archive/data.warc.gz", lambda d: d[:-1] + bytes([d[-1] ^ 1]))
    code, output = validate(forged, tmp_path / "forged.wacz")
    assert code == 1
    # Frictionless, run by the validator, checks each resource's hash first.
    assert "invalid package" in output and "data.warc.gz" in output
    with pytest.raises(
        WaczContentError, match=re.escape("archive/data.warc.gz does not match its hash")
    ):
        check_wacz_contents(forged)


def test_an_unlisted_file_is_refused(wacz: WaczArchive) -> None:
    entries = zip_entries(wacz.data)
    entries["logs/extra.log"] = b"not listed"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(
        WaczContentError, match=re.escape("not listed in datapackage.json: logs/extra.log")
    ):
        check_wacz_contents(buffer.getvalue())


def test_our_own_check_accepts_the_archive(wacz: WaczArchive) -> None:
    contents = check_wacz_contents(wacz.data)
    assert contents.resource_hash("archive/data.warc.gz") == f"sha256:{wacz.warc_sha256}"
    assert "signedData" not in contents.digest
