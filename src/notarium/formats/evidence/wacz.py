"""The WARC packaged as a WACZ 1.1.1 file, optionally signed.

Layout, as py-wacz writes it: ``archive/data.warc.gz`` and ``indexes/index.cdx`` stored
uncompressed (replay seeks into them by offset), ``pages/pages.jsonl`` with a header line
and the one certified page, ``datapackage.json`` (a Frictionless data package listing each
of those with its SHA-256 and size) and ``datapackage-digest.json`` holding the hash of
``datapackage.json`` and, when signed, the ``signedData`` of the WACZ signing spec.

The index is produced by ``cdxj_indexer``, the indexer py-wacz itself builds on, sorted
and with POST bodies appended to request keys as replay expects. The metadata record is
left out of the index: it describes the page and is not something to replay.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from notarium.formats.evidence.errors import EvidenceBuildError
from notarium.formats.evidence.warc import WARC_NAME, WarcFile, warc_date

WACZ_VERSION: Final = "1.1.1"
ARCHIVE_PATH: Final = f"archive/{WARC_NAME}"
INDEX_PATH: Final = "indexes/index.cdx"
PAGES_PATH: Final = "pages/pages.jsonl"
DATAPACKAGE: Final = "datapackage.json"
DATAPACKAGE_DIGEST: Final = "datapackage-digest.json"
INDEXED_RECORDS: Final = "response,revisit,resource"

DigestSigner = Callable[[str, str], dict[str, Any]]
"""``(hash of datapackage.json, created) -> signedData``."""


@dataclass(frozen=True)
class WaczArchive:
    data: bytes
    datapackage: bytes
    datapackage_digest: bytes
    warc_sha256: str


def wacz_created(instant: datetime) -> str:
    """The WACZ ``created`` form (whole seconds, ``Z``), which the signature repeats."""
    if instant.tzinfo is None:
        raise EvidenceBuildError("the WACZ creation time must be timezone-aware")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha256_label(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def cdxj_index(warc: bytes) -> bytes:
    # Imported here: the indexer pulls in pkg_resources, seconds at start-up for a
    # process that may never build an archive.
    from cdxj_indexer.main import CDXJIndexer  # type: ignore[import-untyped]

    out = io.StringIO()
    CDXJIndexer(
        out,
        [io.BytesIO(warc)],
        sort=True,
        post_append=True,
        filename=WARC_NAME,
        fields="referrer",
        records=INDEXED_RECORDS,
    ).process_all()
    index = out.getvalue().encode()
    if not index:
        raise EvidenceBuildError("the WARC holds no record a replay could show")
    return index


def pages_jsonl(warc: WarcFile, title: str) -> bytes:
    header = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    page = {
        "id": uuid.uuid4().hex,
        "url": warc.page_url,
        "ts": warc_date(warc.page_date),
        "title": title or warc.page_url,
    }
    return b"".join(json.dumps(line).encode() + b"\n" for line in (header, page))


def build_wacz(
    warc: WarcFile,
    *,
    title: str,
    created: datetime,
    software: str,
    sign: DigestSigner | None = None,
) -> WaczArchive:
    members = (
        (ARCHIVE_PATH, warc.data, zipfile.ZIP_STORED),
        (INDEX_PATH, cdxj_index(warc.data), zipfile.ZIP_STORED),
        (PAGES_PATH, pages_jsonl(warc, title), zipfile.ZIP_DEFLATED),
    )
    created_text = wacz_created(created)
    package: dict[str, Any] = {
        "profile": "data-package",
        "resources": [
            {
                "name": path.rsplit("/", 1)[-1].lower(),
                "path": path,
                "hash": sha256_label(data),
                "bytes": len(data),
            }
            for path, data, _ in members
        ],
        "title": title or warc.page_url,
        "mainPageURL": warc.page_url,
        "mainPageDate": warc_date(warc.page_date),
        "created": created_text,
        "wacz_version": WACZ_VERSION,
        "software": software,
    }
    datapackage = json.dumps(package, indent=2).encode()
    digest: dict[str, Any] = {"path": DATAPACKAGE, "hash": sha256_label(datapackage)}
    if sign is not None:
        digest["signedData"] = sign(digest["hash"], created_text)
    datapackage_digest = json.dumps(digest, indent=2).encode()

    stamp = created.astimezone(UTC).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data, compression in (
            *members,
            (DATAPACKAGE, datapackage, zipfile.ZIP_DEFLATED),
            (DATAPACKAGE_DIGEST, datapackage_digest, zipfile.ZIP_DEFLATED),
        ):
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = compression
            archive.writestr(info, data)
    return WaczArchive(
        data=buffer.getvalue(),
        datapackage=datapackage,
        datapackage_digest=datapackage_digest,
        warc_sha256=hashlib.sha256(warc.data).hexdigest(),
    )
