"""One report model for every offline check: its verdict, and how checks are run into it."""

from __future__ import annotations

import dataclasses

import pytest

from notarium.core.errors import NotariumError
from notarium.verify.bundle import VerificationReport
from notarium.verify.evidence import EvidenceReport
from notarium.verify.pdf import PdfReport, SignatureReport
from notarium.verify.report import Check, Checklist, Report


class Broken(NotariumError):
    code = "BROKEN"


def test_only_a_failed_check_makes_a_report_not_ok() -> None:
    calm = Report(
        (
            Check("a", "passed", ""),
            Check("b", "pending", ""),
            Check("c", "absent", ""),
            Check("d", "skipped", ""),
        )
    )
    assert calm.ok and calm.failed == ()
    failing = Report((*calm.checks, Check("e", "failed", "why")))
    assert not failing.ok
    assert failing.failed == (Check("e", "failed", "why"),)


def test_a_check_is_found_by_name() -> None:
    report = Report((Check("a", "passed", "one"), Check("b", "failed", "two")))
    assert report.check("b") == Check("b", "failed", "two")
    with pytest.raises(KeyError):
        report.check("c")


def test_a_checklist_records_each_outcome() -> None:
    checks = Checklist()
    assert checks.run("plain", lambda: "fine")
    assert checks.run("later", lambda: ("pending", "not yet"))
    checks.add("none", "absent", "nothing there")
    assert checks.done() == (
        Check("plain", "passed", "fine"),
        Check("later", "pending", "not yet"),
        Check("none", "absent", "nothing there"),
    )


def test_a_check_that_raises_is_recorded_as_failed_with_its_reason() -> None:
    def refuse() -> str:
        raise Broken("the thing is broken")

    def crash() -> str:
        found: dict[str, str] = {}
        return found["missing"]

    checks = Checklist()
    assert not checks.run("refused", refuse)
    assert not checks.run("crashed", crash)
    assert checks.done() == (
        Check("refused", "failed", "the thing is broken"),
        Check("crashed", "failed", "malformed: KeyError: 'missing'"),
    )


def test_a_bug_is_not_taken_for_a_verdict() -> None:
    def bug() -> str:
        raise RuntimeError("a programming error")

    with pytest.raises(RuntimeError):
        Checklist().run("bug", bug)


@pytest.mark.parametrize("report", [VerificationReport, EvidenceReport, PdfReport, SignatureReport])
def test_proof_evidence_and_pdf_reports_are_reports(report: type[Report]) -> None:
    assert issubclass(report, Report)
    assert "checks" in {f.name for f in dataclasses.fields(report)}
