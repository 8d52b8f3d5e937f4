"""An in-memory Bitcoin block chain with real consensus serialisation.

Blocks, headers and transactions are python-bitcoinlib objects, so headers are the
real 80 bytes, block hashes and txids are real double SHA-256 values and Merkle
roots follow Bitcoin's rules (odd levels duplicate their last node). Proof of work
is not checked by anything notarium does, so none is done here.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from bitcoin.core import (
    COIN,
    CBlock,
    COutPoint,
    CTransaction,
    CTxIn,
    CTxOut,
    b2lx,
    lx,
)
from bitcoin.core.script import OP_TRUE, CScript

GENESIS_TIME = 1_700_000_000
BLOCK_SPACING = 600
REGTEST_BITS = 0x207FFFFF


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def merkle_root(txids: Sequence[bytes]) -> bytes:
    """Bitcoin's block Merkle root over txids in internal byte order.

    Written out rather than taken from python-bitcoinlib so that the two can be
    checked against each other (``CBlock`` refuses a root that disagrees).
    """
    if not txids:
        raise ValueError("a block has at least one transaction")
    level = list(txids)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def merkle_path(txids: Sequence[bytes], index: int) -> list[tuple[str, bytes]]:
    """Siblings from leaf ``index`` up to the root: ("left"|"right", hash), internal order."""
    if not 0 <= index < len(txids):
        raise IndexError(f"no transaction at position {index}")
    path: list[tuple[str, bytes]] = []
    level = list(txids)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        if index % 2:
            path.append(("left", level[index - 1]))
        else:
            path.append(("right", level[index + 1]))
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        index //= 2
    return path


def _coinbase(height: int) -> CTransaction:
    # The height in the coinbase keeps every coinbase txid distinct (as BIP 34 does).
    script_sig = CScript([height.to_bytes(4, "little"), b"notarium fake chain"])
    return CTransaction(
        [CTxIn(COutPoint(), script_sig, 0xFFFFFFFF)],
        [CTxOut(50 * COIN, CScript([OP_TRUE]))],
    )


def _txid_bytes(txid: str | bytes) -> bytes:
    """Display-order hex (as bitcoind prints it) or 32 bytes in internal order."""
    if isinstance(txid, bytes):
        if len(txid) != 32:
            raise ValueError("a txid is 32 bytes")
        return txid
    return lx(txid)


class FakeChain:
    """A chain that grows only when a test calls :meth:`mine`; safe across threads."""

    def __init__(self, *, genesis_time: int = GENESIS_TIME, spacing: int = BLOCK_SPACING) -> None:
        self._lock = threading.RLock()
        self._spacing = spacing
        self._blocks: list[CBlock] = []
        self._by_hash: dict[bytes, int] = {}
        self._tx_index: dict[bytes, tuple[int, int]] = {}
        self._append([], genesis_time)

    # -- growing --------------------------------------------------------------------

    def mine(self, transactions: Sequence[CTransaction] = (), *, time: int | None = None) -> int:
        """Add a block of a fresh coinbase and ``transactions``; return its height."""
        with self._lock:
            previous = self._blocks[-1]
            block_time = previous.nTime + self._spacing if time is None else time
            if block_time <= previous.nTime:
                raise ValueError("block times must increase")
            return self._append(list(transactions), block_time)

    def _append(self, transactions: list[CTransaction], block_time: int) -> int:
        height = len(self._blocks)
        vtx = [_coinbase(height), *(CTransaction.from_tx(tx) for tx in transactions)]
        txids = [tx.GetTxid() for tx in vtx]
        if len(set(txids)) != len(txids):
            raise ValueError("a transaction appears twice in the block")
        for txid in txids:
            if txid in self._tx_index:
                raise ValueError(f"transaction {b2lx(txid)} is already in the chain")
        previous_hash = self._blocks[-1].GetHash() if self._blocks else b"\x00" * 32
        block = CBlock(
            nVersion=0x20000000,
            hashPrevBlock=previous_hash,
            hashMerkleRoot=merkle_root(txids),
            nTime=block_time,
            nBits=REGTEST_BITS,
            nNonce=height,
            vtx=vtx,
        )
        self._blocks.append(block)
        self._by_hash[block.GetHash()] = height
        for position, txid in enumerate(txids):
            self._tx_index[txid] = (height, position)
        return height

    # -- reading --------------------------------------------------------------------

    @property
    def tip(self) -> int:
        with self._lock:
            return len(self._blocks) - 1

    def block(self, height: int) -> CBlock:
        with self._lock:
            if not 0 <= height < len(self._blocks):
                raise IndexError(f"no block at height {height}")
            return self._blocks[height]

    def header(self, height: int) -> bytes:
        """The 80-byte serialised block header."""
        header: bytes = self.block(height).get_header().serialize()
        assert len(header) == 80
        return header

    def block_hash(self, height: int) -> str:
        """Display-order hex, as bitcoind prints it."""
        return str(b2lx(self.block(height).GetHash()))

    def block_time(self, height: int) -> datetime:
        return datetime.fromtimestamp(self.block(height).nTime, UTC)

    def height_of(self, block_hash: str) -> int | None:
        with self._lock:
            return self._by_hash.get(lx(block_hash))

    def txids(self, height: int) -> list[str]:
        """The block's txids in block order, display-order hex; the coinbase first."""
        return [str(b2lx(tx.GetTxid())) for tx in self.block(height).vtx]

    def find_tx(self, txid: str | bytes) -> tuple[int, CTransaction] | None:
        """The height and transaction of a mined txid, or None."""
        with self._lock:
            found = self._tx_index.get(_txid_bytes(txid))
            if found is None:
                return None
            height, position = found
            return height, self._blocks[height].vtx[position]

    def tx_merkle_path(self, height: int, txid: str | bytes) -> list[tuple[str, bytes]]:
        """The block Merkle path of a mined transaction (sides and internal-order hashes)."""
        block = self.block(height)
        wanted = _txid_bytes(txid)
        txids = [tx.GetTxid() for tx in block.vtx]
        if wanted not in txids:
            raise KeyError(f"transaction {b2lx(wanted)} is not in block {height}")
        return merkle_path(txids, txids.index(wanted))
