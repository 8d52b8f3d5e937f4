"""The fingerprint that decides when a certificate is rebuilt, and the on-disk cache."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notarium.products.certificate_pdf import AnchorFact, LogEntryFact, fingerprint
from notarium.products.certificate_pdf.cache import PdfCache
from notarium.products.certificate_pdf.errors import CertificatePdfError

from .conftest import Notarised


def test_fingerprint_follows_every_fact_that_can_change(notarised: Notarised) -> None:
    facts = notarised.facts
    base = fingerprint(facts)
    assert fingerprint(replace(facts)) == base
    waiting = AnchorFact("ots", "http://127.0.0.1:9001", "waiting", payload_sha256="00" * 32)
    changed = [
        replace(facts, status="anchoring"),
        replace(facts, anchors=(waiting,)),
        replace(facts, anchors=(replace(waiting, payload_sha256="11" * 32),)),
        replace(facts, anchors=(replace(waiting, state="complete", bitcoin_height=9),)),
        replace(facts, log_entry=LogEntryFact("notary.example.com/log", 7)),
        replace(facts, log_entry=LogEntryFact("notary.example.com/log", 7, in_checkpoint=True)),
        replace(facts, confirmed_at=datetime(2026, 1, 1, tzinfo=UTC)),
        replace(facts, verify_url="https://other.example.com/cert/TS-7K2M9QXD"),
    ]
    prints = {fingerprint(f) for f in changed}
    assert base not in prints and len(prints) == len(changed)
    assert fingerprint(facts, extra=("sections:1",)) != base


def test_cache_serves_the_matching_version_and_drops_older_ones(tmp_path: Path) -> None:
    cache = PdfCache(tmp_path / "certificates")
    key = "3b438437-04a4-40bb-8389-54bb02766fba"
    first, second = "a" * 64, "b" * 64
    assert cache.get(key, first) is None
    cache.put(key, first, b"%PDF-first")
    assert cache.get(key, first) == b"%PDF-first"
    cache.put(key, second, b"%PDF-second")
    assert cache.get(key, second) == b"%PDF-second"
    assert cache.get(key, first) is None
    # Another record's versions are left alone.
    cache.put("3b438437-04a4-40bb-8389-54bb02766fbb", first, b"%PDF-other")
    assert cache.get(key, second) == b"%PDF-second"
    assert sorted(os.listdir(tmp_path / "certificates")) == [
        f"3b438437-04a4-40bb-8389-54bb02766fba.{second}.pdf",
        f"3b438437-04a4-40bb-8389-54bb02766fbb.{first}.pdf",
    ]


def test_a_concurrent_writer_of_the_same_version_is_not_an_error(tmp_path: Path) -> None:
    cache = PdfCache(tmp_path)
    cache.put("record", "c" * 64, b"%PDF-one")
    cache.put("record", "c" * 64, b"%PDF-two")
    assert cache.get("record", "c" * 64) == b"%PDF-one"


@pytest.mark.parametrize(("key", "print_"), [("../etc", "a" * 64), ("record", "A" * 64)])
def test_cache_keys_cannot_name_other_paths(tmp_path: Path, key: str, print_: str) -> None:
    with pytest.raises(CertificatePdfError):
        PdfCache(tmp_path).get(key, print_)
