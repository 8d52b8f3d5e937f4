"""Offline checks of an OP_RETURN anchor: every part of the proof is load-bearing."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from bitcoin.core import CBlock

from fakes.bitcoind import FakeBitcoind
from fakes.chain import FakeChain
from notarium.core.errors import ProofVerificationError
from notarium.formats.bitcoin_proof import (
    BitcoinProofMismatchError,
    MalformedBitcoinProofError,
    merkle_branch,
    merkle_root_from_branch,
    op_return_data,
    verify_op_return_anchor,
)
from notarium.ledger.anchoring.bitcoin_rpc import BitcoinAnchor, BitcoinRpc

ROOT = hashlib.sha256(b"batch root").digest()
PREFIX = b"NTRM"


@pytest.fixture(scope="module")
def anchored() -> Iterator[tuple[dict[str, Any], FakeChain]]:
    """A real proof, from a block with a few other transactions around ours."""
    chain = FakeChain()
    with FakeBitcoind(chain) as node:
        anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url))
        others = [hashlib.sha256(b"%d" % i).digest() for i in range(4)]
        for other in others[:2]:
            anchor.submit(other)
        state = anchor.submit(ROOT)
        for other in others[2:]:
            anchor.submit(other)
        node.mine()
        done = anchor.upgrade(ROOT, state)
        assert done.complete
        proof = json.loads(done.payload)["proof"]
        assert proof["tx_index"] == 3
        yield proof, chain


def _header(proof: dict[str, Any]) -> bytes:
    return bytes.fromhex(proof["header"])


def test_the_genuine_proof_verifies(anchored: tuple[dict[str, Any], FakeChain]) -> None:
    proof, chain = anchored
    when = verify_op_return_anchor(proof, ROOT, PREFIX, chain.header(proof["height"]))
    assert when == chain.block_time(proof["height"])
    assert isinstance(when, datetime) and when.tzinfo is not None
    assert verify_op_return_anchor(json.dumps(proof), ROOT, PREFIX, _header(proof)) == when
    assert (
        verify_op_return_anchor(json.dumps({"proof": proof}).encode(), ROOT, PREFIX, _header(proof))
        == when
    )


def test_stored_raw_tx_hashes_to_the_txid(anchored: tuple[dict[str, Any], FakeChain]) -> None:
    proof, _ = anchored
    raw = bytes.fromhex(proof["raw_tx"])
    digest = hashlib.sha256(hashlib.sha256(raw).digest()).digest()
    assert digest[::-1].hex() == proof["txid"]


def test_a_witness_serialisation_is_accepted_too(
    anchored: tuple[dict[str, Any], FakeChain],
) -> None:
    proof, chain = anchored
    height = proof["height"]
    found = chain.find_tx(proof["txid"])
    assert found is not None
    with_witness = dict(proof, raw_tx=found[1].serialize().hex())
    assert with_witness["raw_tx"] != proof["raw_tx"]
    verify_op_return_anchor(with_witness, ROOT, PREFIX, chain.header(height))


def _mutated(proof: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(proof)
    changed[key] = value
    return changed


def _flip(hex_text: str, at: int) -> str:
    data = bytearray(bytes.fromhex(hex_text))
    data[at] ^= 0x01
    return data.hex()


def test_other_root_or_prefix(anchored: tuple[dict[str, Any], FakeChain]) -> None:
    proof, _ = anchored
    other = hashlib.sha256(b"other").digest()
    with pytest.raises(BitcoinProofMismatchError, match="no OP_RETURN output carrying"):
        verify_op_return_anchor(proof, other, PREFIX, _header(proof))
    with pytest.raises(BitcoinProofMismatchError, match="no OP_RETURN output carrying"):
        verify_op_return_anchor(proof, ROOT, b"XXXX", _header(proof))


def test_tampered_raw_tx(anchored: tuple[dict[str, Any], FakeChain]) -> None:
    proof, _ = anchored
    raw = proof["raw_tx"]
    # A byte of the OP_RETURN data: still a transaction, another txid.
    at = bytes.fromhex(raw).index(ROOT)
    with pytest.raises(BitcoinProofMismatchError, match="hashes to txid"):
        verify_op_return_anchor(
            _mutated(proof, "raw_tx", _flip(raw, at)), ROOT, PREFIX, _header(proof)
        )
    with pytest.raises(MalformedBitcoinProofError, match="not a Bitcoin transaction"):
        verify_op_return_anchor(_mutated(proof, "raw_tx", raw[:-8]), ROOT, PREFIX, _header(proof))
    with pytest.raises(MalformedBitcoinProofError, match="not hex"):
        verify_op_return_anchor(_mutated(proof, "raw_tx", "zz"), ROOT, PREFIX, _header(proof))


def test_a_transaction_that_carries_the_root_in_another_block(
    anchored: tuple[dict[str, Any], FakeChain],
) -> None:
    """A consistent txid and raw tx are not enough: the branch must reach the header."""
    proof, chain = anchored
    with pytest.raises(BitcoinProofMismatchError, match="names block"):
        verify_op_return_anchor(proof, ROOT, PREFIX, chain.header(0))
    unnamed = {k: v for k, v in proof.items() if k != "block_hash"}
    with pytest.raises(BitcoinProofMismatchError, match="Merkle branch"):
        verify_op_return_anchor(unnamed, ROOT, PREFIX, chain.header(0))


def test_tampered_merkle_branch(anchored: tuple[dict[str, Any], FakeChain]) -> None:
    proof, _ = anchored
    header = _header(proof)
    branch = list(proof["merkle_branch"])
    branch[0] = _flip(branch[0], 0)
    with pytest.raises(BitcoinProofMismatchError, match="Merkle branch"):
        verify_op_return_anchor(_mutated(proof, "merkle_branch", branch), ROOT, PREFIX, header)
    with pytest.raises(BitcoinProofMismatchError, match="Merkle branch"):
        verify_op_return_anchor(_mutated(proof, "tx_index", 2), ROOT, PREFIX, header)
    with pytest.raises(MalformedBitcoinProofError, match="does not fit"):
        verify_op_return_anchor(_mutated(proof, "tx_index", 1 << 10), ROOT, PREFIX, header)
    with pytest.raises(MalformedBitcoinProofError, match="tx_index"):
        verify_op_return_anchor(_mutated(proof, "tx_index", "3"), ROOT, PREFIX, header)
    with pytest.raises(MalformedBitcoinProofError, match="32 bytes"):
        verify_op_return_anchor(
            _mutated(proof, "merkle_branch", [*branch[:-1], "00"]), ROOT, PREFIX, header
        )
    with pytest.raises(MalformedBitcoinProofError, match="merkle_branch"):
        verify_op_return_anchor(_mutated(proof, "merkle_branch", "00"), ROOT, PREFIX, header)


def test_tampered_header(anchored: tuple[dict[str, Any], FakeChain]) -> None:
    proof, _ = anchored
    header = bytearray(_header(proof))
    header[36] ^= 0x01  # inside the Merkle root
    unnamed = {k: v for k, v in proof.items() if k != "block_hash"}
    with pytest.raises(BitcoinProofMismatchError, match="Merkle root"):
        verify_op_return_anchor(unnamed, ROOT, PREFIX, bytes(header))
    with pytest.raises(BitcoinProofMismatchError, match="names block"):
        verify_op_return_anchor(proof, ROOT, PREFIX, bytes(header))
    with pytest.raises(MalformedBitcoinProofError, match="80 bytes"):
        verify_op_return_anchor(proof, ROOT, PREFIX, bytes(header[:79]))


def test_malformed_proofs(anchored: tuple[dict[str, Any], FakeChain]) -> None:
    proof, _ = anchored
    header = _header(proof)
    for bad in (b"{", b"[]", json.dumps({"format": "x"}).encode(), {"proof": 5}):
        with pytest.raises(MalformedBitcoinProofError):
            verify_op_return_anchor(bad, ROOT, PREFIX, header)
    without_txid = {k: v for k, v in proof.items() if k != "txid"}
    with pytest.raises(MalformedBitcoinProofError, match="no txid"):
        verify_op_return_anchor(without_txid, ROOT, PREFIX, header)
    with pytest.raises(MalformedBitcoinProofError, match="32-byte"):
        verify_op_return_anchor(proof, ROOT[:31], PREFIX, header)
    with pytest.raises(ProofVerificationError):
        verify_op_return_anchor(proof, ROOT, b"x" * 49, header)


def test_sixty_four_byte_transactions_are_refused(
    anchored: tuple[dict[str, Any], FakeChain],
) -> None:
    proof, _ = anchored
    with pytest.raises(BitcoinProofMismatchError, match="64 bytes"):
        verify_op_return_anchor(_mutated(proof, "raw_tx", "00" * 64), ROOT, PREFIX, _header(proof))


def test_op_return_data_limit() -> None:
    assert op_return_data(b"x" * 48, ROOT) == b"x" * 48 + ROOT
    with pytest.raises(ValueError, match="at most 80 bytes"):
        op_return_data(b"x" * 49, ROOT)


def test_merkle_branch_round_trip() -> None:
    for count in range(1, 12):
        txids = [hashlib.sha256(bytes([i])).digest() for i in range(count)]
        roots = {
            merkle_root_from_branch(txid, i, merkle_branch(txids, i))
            for i, txid in enumerate(txids)
        }
        assert roots == {CBlock.build_merkle_tree_from_txids(txids)[-1]}
