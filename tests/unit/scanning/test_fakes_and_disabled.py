"""The in-process fake and the NoScanner stand-in keep the scanner contract."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from notarium.adapters.scanning.disabled import NoScanner
from notarium.adapters.scanning.fakes import EICAR, FAKE_SIGNATURE, FakeScanner
from notarium.adapters.scanning.policy import require_clean
from notarium.adapters.scanning.ports import MalwareDetected, MalwareScanner, ScannerUnavailable
from notarium.app.settings import Settings
from notarium.app.wiring.scanning import build_scanner

from .support import RecordingStream


def test_both_satisfy_the_protocol() -> None:
    assert isinstance(FakeScanner(), MalwareScanner)
    assert isinstance(NoScanner(), MalwareScanner)


def test_fake_flags_the_marker() -> None:
    scanner = FakeScanner()
    assert scanner.scan(io.BytesIO(b"a letter")).clean
    verdict = scanner.scan(io.BytesIO(b"head " + EICAR + b" tail"))
    assert (verdict.clean, verdict.signature) == (False, FAKE_SIGNATURE)
    assert scanner.scans == 2


@pytest.mark.parametrize("offset", range(0, 12))
def test_fake_finds_a_marker_across_chunk_boundaries(offset: int) -> None:
    scanner = FakeScanner(b"MARKER", signature="Test.Marker", chunk_size=4)
    stream = RecordingStream(b"x" * offset + b"MARKER" + b"y" * 9)
    verdict = scanner.scan(stream)
    assert (verdict.clean, verdict.signature) == (False, "Test.Marker")
    assert stream.exhausted and max(stream.reads) <= 4


def test_fake_does_not_flag_a_marker_split_by_other_bytes() -> None:
    assert FakeScanner(b"MARKER", chunk_size=3).scan(io.BytesIO(b"MAR-KER")).clean


def test_fake_can_be_down() -> None:
    scanner = FakeScanner(unavailable="clamd is down")
    with pytest.raises(ScannerUnavailable, match="clamd is down"):
        scanner.scan(io.BytesIO(b"x"))
    with pytest.raises(ScannerUnavailable):
        scanner.ping()


def test_require_clean_with_the_fake() -> None:
    with pytest.raises(MalwareDetected, match=FAKE_SIGNATURE):
        require_clean(FakeScanner(), io.BytesIO(EICAR))


def test_no_scanner_passes_everything_but_says_it_did_not_scan() -> None:
    scanner = NoScanner()
    stream = RecordingStream(EICAR * 5000)
    verdict = scanner.scan(stream)
    assert verdict.clean and not verdict.scanned
    assert stream.exhausted
    assert "not scanned" in scanner.name
    assert "NOTARIUM_CLAMD_ADDRESS" in scanner.name
    scanner.ping()


def test_unset_address_builds_the_no_scanner(tmp_path: Path) -> None:
    assert isinstance(build_scanner(Settings(data_dir=tmp_path)), NoScanner)


def test_address_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NOTARIUM_CLAMD_ADDRESS", "unix:///run/clamav/clamd.ctl")
    monkeypatch.setenv("NOTARIUM_CLAMD_TIMEOUT", "7.5")
    settings = Settings(data_dir=tmp_path)
    assert settings.clamd_timeout == 7.5
    assert build_scanner(settings).name == "clamd at unix:///run/clamav/clamd.ctl"
