"""One report for every offline check: proofs, evidence packages and PDFs.

A report is the list of checks that ran, each ``passed``, ``failed``, ``pending``
(well-formed, but not checkable to the end yet), ``absent`` (nothing there to check) or
``skipped`` (not checked, and not a failure: no input to check it with, or an earlier
check it rests on failed). Only ``failed`` makes a report not ok.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from notarium.core.errors import NotariumError

Status = Literal["passed", "failed", "pending", "absent", "skipped"]


@dataclass(frozen=True)
class Check:
    """One verification step."""

    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.status != "failed" for check in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.status == "failed")

    def check(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)


Outcome = str | tuple[Status, str]
"""What a check function returns: a detail (it passed) or a status and a detail."""


@dataclass
class Checklist:
    """The checks of a report as they run; a check that raises is recorded as failed."""

    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, status: Status, detail: str) -> None:
        self.checks.append(Check(name, status, detail))

    def run(self, name: str, check: Callable[[], Outcome]) -> bool:
        """Run one check; True if it did not fail."""
        try:
            outcome = check()
        except NotariumError as exc:
            self.add(name, "failed", exc.message)
            return False
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            # Hostile input must end in a verdict naming the check, never a crash.
            self.add(name, "failed", f"malformed: {type(exc).__name__}: {exc}")
            return False
        status, detail = outcome if isinstance(outcome, tuple) else ("passed", outcome)
        self.add(name, status, detail)
        return status != "failed"

    def done(self) -> tuple[Check, ...]:
        return tuple(self.checks)
