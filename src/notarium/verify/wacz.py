"""Checking a WACZ as the WACZ signing spec's verifier does.

Step 1 is the data-package check (every file listed with the right hash and size, none
unlisted), step 2 the digest file's hash of ``datapackage.json``; the signature steps
are in ``formats.evidence.wacz_signature.verify_signed_data``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from notarium.formats.evidence.errors import WaczSignatureError
from notarium.formats.evidence.package import read_zip
from notarium.formats.evidence.wacz import (
    DATAPACKAGE,
    DATAPACKAGE_DIGEST,
    WACZ_VERSION,
    sha256_label,
)
from notarium.formats.evidence.wacz_signature import (
    WaczSignatureFacts,
    verify_signed_data,
)


class WaczContentError(WaczSignatureError):
    """The WACZ's files do not match its ``datapackage.json``, or that file its digest."""

    code = "WACZ_CONTENT_INVALID"


@dataclass(frozen=True)
class WaczContents:
    files: dict[str, bytes]
    datapackage: dict[str, Any]
    digest: dict[str, Any]

    def resource_hash(self, path: str) -> str | None:
        for resource in self.datapackage.get("resources", []):
            if isinstance(resource, dict) and resource.get("path") == path:
                value = resource.get("hash")
                return value if isinstance(value, str) else None
        return None


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WaczContentError(f"{name} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise WaczContentError(f"{name} is not a JSON object")
    return value


def check_wacz_contents(data: bytes) -> WaczContents:
    """Steps 1-2: resources against ``datapackage.json``, that file against its digest."""
    files = read_zip(data, what="WACZ")
    for name in (DATAPACKAGE, DATAPACKAGE_DIGEST):
        if name not in files:
            raise WaczContentError(f"the WACZ has no {name}")
    package = _json_object(files[DATAPACKAGE], DATAPACKAGE)
    if package.get("wacz_version") != WACZ_VERSION:
        raise WaczContentError(f"wacz_version is {package.get('wacz_version')!r}, not 1.1.1")
    resources = package.get("resources")
    if not isinstance(resources, list) or not resources:
        raise WaczContentError("datapackage.json lists no resources")
    listed: set[str] = set()
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict) or not isinstance(resource.get("path"), str):
            raise WaczContentError(f"datapackage.json resources[{index}] has no path")
        path = resource["path"]
        if path not in files:
            raise WaczContentError(f"{path} is listed in datapackage.json but missing")
        if resource.get("hash") != sha256_label(files[path]):
            raise WaczContentError(f"{path} does not match its hash in datapackage.json")
        if resource.get("bytes") != len(files[path]):
            raise WaczContentError(f"{path} does not match its size in datapackage.json")
        listed.add(path)
    unlisted = sorted(set(files) - listed - {DATAPACKAGE, DATAPACKAGE_DIGEST})
    if unlisted:
        raise WaczContentError(f"not listed in datapackage.json: {', '.join(unlisted)}")
    digest = _json_object(files[DATAPACKAGE_DIGEST], DATAPACKAGE_DIGEST)
    if digest.get("path") != DATAPACKAGE:
        raise WaczContentError("datapackage-digest.json does not name datapackage.json")
    if digest.get("hash") != sha256_label(files[DATAPACKAGE]):
        raise WaczContentError("datapackage.json does not match datapackage-digest.json")
    return WaczContents(files, package, digest)


def check_wacz_signature(
    contents: WaczContents, trust_roots: Sequence[x509.Certificate]
) -> WaczSignatureFacts:
    signed = contents.digest.get("signedData")
    if signed is None:
        raise WaczSignatureError("datapackage-digest.json carries no signedData")
    if not isinstance(signed, dict) or signed.get("created") != contents.datapackage.get("created"):
        raise WaczSignatureError("signedData.created is not the datapackage's created")
    return verify_signed_data(
        signed, expected_hash=str(contents.digest["hash"]), trust_roots=trust_roots
    )
