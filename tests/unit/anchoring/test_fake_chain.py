"""The fake chain builds what Bitcoin would: real headers, txids and Merkle roots."""

from __future__ import annotations

import hashlib
import threading

import pytest
from bitcoin.core import CBlock, CBlockHeader, COutPoint, CTransaction, CTxIn, CTxOut, b2lx, lx
from bitcoin.core.script import OP_RETURN, CScript

from fakes.chain import FakeChain, merkle_path, merkle_root


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def tx(tag: bytes) -> CTransaction:
    return CTransaction(
        [CTxIn(COutPoint(hashlib.sha256(tag).digest(), 0))],
        [CTxOut(0, CScript([OP_RETURN, tag]))],
    )


def test_genesis_and_chaining() -> None:
    chain = FakeChain()
    assert chain.tip == 0
    heights = [chain.mine([tx(b"a%d" % i)]) for i in range(3)]
    assert heights == [1, 2, 3]
    for height in range(1, 4):
        header = CBlockHeader.deserialize(chain.header(height))
        previous = chain.header(height - 1)
        assert header.hashPrevBlock == sha256d(previous)
        assert header.nTime > CBlockHeader.deserialize(previous).nTime
        assert chain.block_hash(height) == sha256d(chain.header(height))[::-1].hex()
        assert chain.height_of(chain.block_hash(height)) == height


def test_header_is_80_bytes_and_block_round_trips() -> None:
    chain = FakeChain()
    height = chain.mine([tx(b"x"), tx(b"y")])
    assert len(chain.header(height)) == 80
    block = CBlock.deserialize(chain.block(height).serialize())
    assert block.get_header().serialize() == chain.header(height)
    assert chain.txids(height) == [b2lx(t.GetTxid()) for t in block.vtx]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 11])
def test_merkle_root_matches_bitcoinlib_and_paths_reach_it(count: int) -> None:
    chain = FakeChain()
    height = chain.mine([tx(b"t%d" % i) for i in range(count - 1)])
    block = chain.block(height)
    txids = [t.GetTxid() for t in block.vtx]
    assert merkle_root(txids) == block.calc_merkle_root() == block.hashMerkleRoot
    for index, txid in enumerate(txids):
        node = txid
        for side, sibling in chain.tx_merkle_path(height, b2lx(txid)):
            node = sha256d(sibling + node if side == "left" else node + sibling)
        assert node == block.hashMerkleRoot
        assert merkle_path(txids, index) == chain.tx_merkle_path(height, txid)


def test_odd_levels_duplicate_the_last_node() -> None:
    a, b, c = (hashlib.sha256(bytes([i])).digest() for i in range(3))
    assert merkle_root([a, b, c]) == sha256d(sha256d(a + b) + sha256d(c + c))
    assert merkle_path([a, b, c], 2) == [("right", c), ("left", sha256d(a + b))]


def test_find_tx() -> None:
    chain = FakeChain()
    mined = tx(b"find me")
    height = chain.mine([mined])
    found = chain.find_tx(b2lx(mined.GetTxid()))
    assert found is not None
    assert found[0] == height
    assert found[1].GetTxid() == mined.GetTxid()
    assert chain.find_tx(mined.GetTxid()) == found
    assert chain.find_tx("00" * 32) is None
    assert lx(chain.txids(height)[1]) == mined.GetTxid()


def test_refuses_duplicates_and_time_going_backwards() -> None:
    chain = FakeChain()
    once = tx(b"once")
    chain.mine([once])
    with pytest.raises(ValueError, match="already in the chain"):
        chain.mine([once])
    with pytest.raises(ValueError, match="twice"):
        chain.mine([tx(b"d"), tx(b"d")])
    with pytest.raises(ValueError, match="increase"):
        chain.mine([], time=1)


def test_mining_from_many_threads() -> None:
    chain = FakeChain()

    def work(worker: int) -> None:
        for i in range(10):
            chain.mine([tx(b"%d-%d" % (worker, i))])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert chain.tip == 40
    for height in range(1, 41):
        header = CBlockHeader.deserialize(chain.header(height))
        assert header.hashPrevBlock == sha256d(chain.header(height - 1))
