"""Offline verification, the public API: proof files, evidence packages and PDFs, each
answered with a :class:`Report` of :class:`Check` s.

``verify_pdf`` loads pyHanko on first use only, so that checking a proof (the CLI's
``notarium verify``) does not pay for it at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from notarium.verify.anchors import BlockHeaders
from notarium.verify.evidence import verify_evidence_package
from notarium.verify.proof import verify_proof
from notarium.verify.report import Check, Report

if TYPE_CHECKING:
    from notarium.verify.pdf import verify_pdf

__all__ = [
    "BlockHeaders",
    "Check",
    "Report",
    "verify_evidence_package",
    "verify_pdf",
    "verify_proof",
]


def __getattr__(name: str) -> Any:
    if name == "verify_pdf":
        from notarium.verify.pdf import verify_pdf

        return verify_pdf
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
