"""An OpenTimestamps calendar server on a loopback port, speaking the real protocol.

``POST /digest`` answers a serialised timestamp from the submitted digest: a 16-byte
nonce is appended and hashed, as real calendars do, and the result (the
commitment) carries a ``PendingAttestation`` naming this calendar. Nothing is sent
to Bitcoin until the test calls :meth:`FakeCalendar.stamp_pending`, which
aggregates every pending commitment into a Merkle tree, puts its tip into the
OP_RETURN output of a real transaction, mines that into the :class:`FakeChain` and
builds each commitment's full path down to a ``BitcoinBlockHeaderAttestation``.
From then on ``GET /timestamp/<hex commitment>`` answers that path; before, 404.
"""

from __future__ import annotations

import os
import re

from bitcoin.core import COutPoint, CTransaction, CTxIn, CTxOut
from bitcoin.core.script import OP_RETURN, CScript
from opentimestamps.bitcoin import make_timestamp_from_block
from opentimestamps.core.notary import PendingAttestation
from opentimestamps.core.op import OpAppend, OpSHA256
from opentimestamps.core.serialize import BytesSerializationContext
from opentimestamps.core.timestamp import Timestamp, make_merkle_tree

from fakes.chain import FakeChain
from fakes.loopback import LoopbackServer, Reply, Request

MAX_DIGEST = 64
NONCE_SIZE = 16
_TIMESTAMP_PATH = re.compile(r"^/timestamp/([0-9a-fA-F]+)$")


def serialize(timestamp: Timestamp) -> bytes:
    ctx = BytesSerializationContext()
    timestamp.serialize(ctx)
    return bytes(ctx.getbytes())


def calendar_transaction(tip: bytes) -> CTransaction:
    """A transaction shaped like a calendar's: one spent input, the tip, change."""
    return CTransaction(
        [CTxIn(COutPoint(os.urandom(32), 0), CScript(), 0xFFFFFFFD)],
        [
            CTxOut(0, CScript([OP_RETURN, tip])),
            CTxOut(1_000_000, CScript([0, os.urandom(20)])),
        ],
        nVersion=2,
    )


class FakeCalendar(LoopbackServer):
    """``with FakeCalendar(chain) as calendar:``; ``calendar.url`` is the calendar URI."""

    name = "calendar"

    def __init__(self, chain: FakeChain) -> None:
        super().__init__()
        self.chain = chain
        self._pending: list[bytes] = []
        self._stamped: dict[bytes, Timestamp] = {}
        self._known: set[bytes] = set()

    # -- knobs ----------------------------------------------------------------------

    @property
    def pending(self) -> list[bytes]:
        """Commitments submitted and not yet in a block."""
        with self._lock:
            return list(self._pending)

    def stamp_pending(self) -> int | None:
        """Put every pending commitment into one mined transaction; its height, or None."""
        with self._lock:
            if not self._pending:
                return None
            leaves = [Timestamp(commitment) for commitment in self._pending]
            tip = make_merkle_tree(leaves)
            height = self.chain.mine([calendar_transaction(tip.msg)])
            block_path = make_timestamp_from_block(tip.msg, self.chain.block(height), height)
            if block_path is None:
                raise RuntimeError("the calendar transaction is not in the block it was mined in")
            tip.merge(block_path)
            for leaf in leaves:
                self._stamped[leaf.msg] = leaf
            self._pending.clear()
            return height

    # -- protocol -------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/digest":
            return self._submit(request.body)
        match = _TIMESTAMP_PATH.match(request.path)
        if request.method == "GET" and match:
            return self._timestamp(match.group(1))
        return Reply(404, b"Not found", "text/plain")

    def _submit(self, digest: bytes) -> Reply:
        if not digest or len(digest) > MAX_DIGEST:
            return Reply(400, b"digest must be 1 to 64 bytes", "text/plain")
        timestamp = Timestamp(digest)
        commitment = timestamp.ops.add(OpAppend(os.urandom(NONCE_SIZE))).ops.add(OpSHA256())
        commitment.attestations.add(PendingAttestation(self.url))
        with self._lock:
            self._pending.append(commitment.msg)
            self._known.add(commitment.msg)
        return Reply(200, serialize(timestamp))

    def _timestamp(self, hex_commitment: str) -> Reply:
        if len(hex_commitment) % 2:
            return Reply(400, b"commitment must be hex", "text/plain")
        commitment = bytes.fromhex(hex_commitment)
        with self._lock:
            stamped = self._stamped.get(commitment)
            known = commitment in self._known
        if stamped is None:
            if known:
                return Reply(404, b"Pending confirmation in Bitcoin blockchain", "text/plain")
            return Reply(404, b"Not found", "text/plain")
        return Reply(200, serialize(stamped))
