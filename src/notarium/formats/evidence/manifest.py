"""``manifest.json``: every artifact of a capture with its SHA-256, and the capture facts.

The manifest is RFC 8785 canonical JSON, so its bytes are fixed by its content: the
Ed25519 signature (``manifest.sig``) is over exactly these bytes, the RFC 3161 token
(``manifest.tsr``) over their SHA-256, and that SHA-256 is the hash entered into the
record pipeline (log, batch, anchors) for the capture.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from notarium.formats.canonical import canonical_json
from notarium.formats.evidence.facts import iso_time
from notarium.formats.evidence.wacz import ARCHIVE_PATH, WaczArchive
from notarium.formats.signing import RecordSigner

MANIFEST_FORMAT: Final = "notarium-evidence"
MANIFEST_VERSION: Final = 1

TOP_KEYS: Final = frozenset(
    {
        "format",
        "version",
        "capture_id",
        "created",
        "software",
        "capture",
        "artifacts",
        "wacz",
        "signature",
    }
)
ARTIFACT_KEYS: Final = frozenset({"path", "media_type", "sha256", "bytes"})
WACZ_KEYS: Final = frozenset({"path", "datapackage_sha256", "warc"})
SIGNATURE_KEYS: Final = frozenset({"algorithm", "key_name", "key_id", "public_key"})


@dataclass(frozen=True)
class Artifact:
    path: str
    """Its name inside the evidence package."""
    media_type: str
    data: bytes


def artifact_entry(artifact: Artifact) -> dict[str, Any]:
    return {
        "path": artifact.path,
        "media_type": artifact.media_type,
        "sha256": hashlib.sha256(artifact.data).hexdigest(),
        "bytes": len(artifact.data),
    }


def build_manifest(
    *,
    capture_id: str,
    created: datetime,
    software: str,
    facts: dict[str, Any],
    artifacts: Sequence[Artifact],
    wacz_path: str,
    wacz: WaczArchive,
    signer: RecordSigner,
) -> bytes:
    """The canonical manifest bytes; ``wacz_path`` names the WACZ among ``artifacts``."""
    return canonical_json(
        {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "capture_id": capture_id,
            "created": iso_time(created),
            "software": software,
            "capture": facts,
            "artifacts": [artifact_entry(a) for a in artifacts],
            "wacz": {
                "path": wacz_path,
                "datapackage_sha256": hashlib.sha256(wacz.datapackage).hexdigest(),
                "warc": {"path": ARCHIVE_PATH, "sha256": wacz.warc_sha256},
            },
            "signature": {
                "algorithm": "ed25519",
                "key_name": signer.name,
                "key_id": signer.key_id,
                "public_key": base64.b64encode(signer.public_key_raw).decode("ascii"),
            },
        }
    )
