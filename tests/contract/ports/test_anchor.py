"""The ``Anchor`` contract, for the OpenTimestamps calendar client (against the fake
calendar on a fake chain), the external RFC 3161 TSA (against OpenSSL's TSA), the
in-process test anchor and the test-mode simulator: a submitted root ends complete
after polls, a complete state stays complete, and a party that fails is an
``AnchorUnavailable`` the caller retries, never another exception."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from fakes.calendar import FakeCalendar
from fakes.chain import FakeChain
from fakes.openssl_tsa import OpenSslTsa, make_pki
from notarium.ledger.anchoring.external_tsa import ExternalTsaAnchor
from notarium.ledger.anchoring.ots_calendar import OtsCalendarAnchor
from notarium.ledger.anchoring.ports import Anchor, AnchorState, AnchorUnavailable
from notarium.ledger.anchoring.simulated import FakeAnchor, SimulatedAnchor

#: Polls a contract allows before an anchor must be complete, the world moving on
#: between them.
POLLS = 5


@dataclass
class Subject:
    anchor: Anchor
    progress: Callable[[], None]
    """What the outside world does between two polls (a calendar stamps, a block)."""
    fail_next: Callable[[], None] | None
    """Make the next call to the outside party fail; None when there is none."""


def _ots() -> Iterator[Subject]:
    with FakeCalendar(FakeChain()) as calendar:

        def progress() -> None:
            calendar.stamp_pending()

        yield Subject(OtsCalendarAnchor(calendar.url), progress, calendar.fail_next)


def _external_tsa() -> Iterator[Subject]:
    with OpenSslTsa(make_pki("Contract")) as tsa:
        anchor = ExternalTsaAnchor(tsa.url, [tsa.ca_certificate])
        yield Subject(anchor, lambda: None, tsa.fail_next)


def _fake() -> Iterator[Subject]:
    anchor = FakeAnchor(upgrades_needed=2)

    def fail_next() -> None:
        anchor.failures += 1

    yield Subject(anchor, lambda: None, fail_next)


def _simulated() -> Iterator[Subject]:
    yield Subject(SimulatedAnchor(), lambda: None, None)


IMPLEMENTATIONS = {"ots": _ots, "external_tsa": _external_tsa, "fake": _fake}
ALL = {**IMPLEMENTATIONS, "simulated": _simulated}


def _root() -> bytes:
    return hashlib.sha256(os.urandom(16)).digest()


def _until_complete(subject: Subject, root: bytes, state: AnchorState) -> AnchorState:
    for _ in range(POLLS):
        if state.complete:
            break
        subject.progress()
        state = subject.anchor.upgrade(root, state)
    return state


@pytest.fixture(params=list(ALL.values()), ids=list(ALL))
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    yield from request.param()


@pytest.fixture(params=list(IMPLEMENTATIONS.values()), ids=list(IMPLEMENTATIONS))
def reachable(request: pytest.FixtureRequest) -> Iterator[Subject]:
    yield from request.param()


def test_it_satisfies_the_protocol_with_a_stable_name(subject: Subject) -> None:
    anchor = subject.anchor
    assert isinstance(anchor, Anchor)
    assert anchor.name and anchor.name == subject.anchor.name
    assert anchor.kind in {"ots", "bitcoin", "rfc3161", "simulated"}


def test_a_submitted_root_ends_complete(subject: Subject) -> None:
    root = _root()
    state = _until_complete(subject, root, subject.anchor.submit(root))
    assert state.complete and state.payload


def test_a_complete_state_stays_complete(subject: Subject) -> None:
    root = _root()
    done = _until_complete(subject, root, subject.anchor.submit(root))
    again = subject.anchor.upgrade(root, done)
    assert again.complete
    assert (again.bitcoin_txid, again.bitcoin_height) == (done.bitcoin_txid, done.bitcoin_height)


def test_a_bitcoin_attestation_names_its_block(subject: Subject) -> None:
    root = _root()
    state = _until_complete(subject, root, subject.anchor.submit(root))
    # A txid and a height come together, or not at all.
    assert (state.bitcoin_txid is None) == (state.bitcoin_height is None)
    if state.bitcoin_txid is not None:
        assert len(bytes.fromhex(state.bitcoin_txid)) == 32


def test_a_failing_party_is_unavailable_and_the_next_attempt_works(reachable: Subject) -> None:
    assert reachable.fail_next is not None
    reachable.fail_next()
    root = _root()
    with pytest.raises(AnchorUnavailable):
        reachable.anchor.submit(root)
    assert _until_complete(reachable, root, reachable.anchor.submit(root)).complete
