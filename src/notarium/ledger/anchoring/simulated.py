"""An in-process anchor for tests of everything around the anchors themselves."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from notarium.ledger.anchoring.ports import AnchorState, AnchorUnavailable


@dataclass
class FakeAnchor:
    """Completes after ``upgrades_needed`` polls with a made-up Bitcoin height (unless
    ``kind`` is ``rfc3161``); ``failures`` makes the next calls fail."""

    anchor_name: str = "fake:one"
    anchor_kind: str = "ots"
    upgrades_needed: int = 1
    height: int = 900_000
    failures: int = 0
    submitted: list[bytes] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return self.anchor_name

    @property
    def kind(self) -> str:
        return self.anchor_kind

    def _maybe_fail(self) -> None:
        with self._lock:
            if self.failures > 0:
                self.failures -= 1
                raise AnchorUnavailable(f"{self.anchor_name} is unreachable")

    def submit(self, root: bytes) -> AnchorState:
        self._maybe_fail()
        with self._lock:
            self.submitted.append(root)
        if self.anchor_kind == "rfc3161":
            return AnchorState(b"token:" + root, complete=True)
        return self._state(root, polls=0)

    def upgrade(self, root: bytes, state: AnchorState) -> AnchorState:
        self._maybe_fail()
        polls = int(state.payload.rsplit(b":", 1)[1]) + 1
        return self._state(root, polls)

    def _state(self, root: bytes, polls: int) -> AnchorState:
        done = polls >= self.upgrades_needed
        return AnchorState(
            payload=root.hex().encode() + b":" + str(polls).encode(),
            complete=done,
            bitcoin_txid=("ab" * 32) if done else None,
            bitcoin_height=self.height if done else None,
        )


class SimulatedAnchor:
    """The default anchor for test-mode records: completes on its first poll without any
    outside party, so test integrations see the whole lifecycle (created → anchoring →
    confirmed, with the webhooks of each step) without a calendar or a wallet. It claims
    no Bitcoin block, and its state is not evidence: proofs carry no trace of it."""

    name = "simulated:test"
    kind = "simulated"

    def submit(self, root: bytes) -> AnchorState:
        return AnchorState(payload=b"simulated:" + root, complete=False)

    def upgrade(self, root: bytes, state: AnchorState) -> AnchorState:
        return AnchorState(payload=state.payload, complete=True)
