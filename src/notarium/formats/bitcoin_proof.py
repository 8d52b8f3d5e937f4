"""Offline verification of a batch root anchored in a Bitcoin OP_RETURN output.

The proof (what :class:`notarium.ledger.anchoring.bitcoin_rpc.BitcoinAnchor` stores once
its transaction is confirmed) is JSON::

    {"txid": "<display hex>", "raw_tx": "<hex>", "height": 812345,
     "block_hash": "<display hex>", "header": "<80 bytes hex>",
     "tx_index": 17, "merkle_branch": ["<display hex>", ...]}

All hashes are written in display (big-endian) order, as bitcoind prints them.
``merkle_branch`` lists the siblings from the transaction up to the root; bit ``i``
of ``tx_index`` says whether the sibling at level ``i`` sits on the left (1) or the
right (0), as in Electrum's ``blockchain.transaction.get_merkle``.

A verifier needs, besides the proof, only the 80-byte header of that block from a
source it trusts (its own node, a header chain): everything else is recomputed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from bitcoin.core import CBlockHeader, CTransaction
from bitcoin.core.script import OP_RETURN, CScript, CScriptInvalidError

from notarium.core.errors import ProofVerificationError

HEADER_SIZE: Final = 80
ROOT_SIZE: Final = 32
#: Bitcoin Core's default -datacarriersize counts the whole script (83 bytes): the
#: OP_RETURN opcode, the push opcodes and at most 80 bytes of data.
MAX_OP_RETURN_DATA: Final = 80
#: A block's Merkle tree has at most 2**32 leaves by any practical measure.
MAX_BRANCH: Final = 32
#: Inner Merkle nodes are hashed from 64 bytes; a 64-byte "transaction" could be
#: passed off as one (CVE-2017-12842), so no proof may rest on one.
AMBIGUOUS_TX_SIZE: Final = 64


class MalformedBitcoinProofError(ProofVerificationError):
    """A field is missing, has the wrong type or does not decode."""

    code = "PROOF_MALFORMED"


class BitcoinProofMismatchError(ProofVerificationError):
    """The parts of the proof decode but do not fit together."""

    code = "PROOF_BITCOIN_MISMATCH"


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def op_return_data(prefix: bytes, root: bytes) -> bytes:
    """What the OP_RETURN output carries for ``root``: ``prefix || root``."""
    data = prefix + root
    if len(data) > MAX_OP_RETURN_DATA:
        raise ValueError(
            f"OP_RETURN data is at most {MAX_OP_RETURN_DATA} bytes; "
            f"a {len(prefix)}-byte prefix and a {len(root)}-byte root make {len(data)}"
        )
    return data


def merkle_branch(txids: Sequence[bytes], index: int) -> list[bytes]:
    """The siblings of leaf ``index`` up to the root; txids and result in internal order."""
    if not 0 <= index < len(txids):
        raise IndexError(f"no transaction at position {index} of {len(txids)}")
    branch: list[bytes] = []
    level = list(txids)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        branch.append(level[index ^ 1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        index >>= 1
    return branch


def merkle_root_from_branch(txid: bytes, index: int, branch: Sequence[bytes]) -> bytes:
    """Fold ``branch`` (internal order) onto ``txid`` (internal order)."""
    node = txid
    for sibling in branch:
        node = sha256d(sibling + node) if index & 1 else sha256d(node + sibling)
        index >>= 1
    return node


def carries(tx: Any, data: bytes) -> bool:
    """Whether one of the transaction's outputs is exactly ``OP_RETURN <data>``."""
    return any(_is_op_return_of(CScript(output.scriptPubKey), data) for output in tx.vout)


def _is_op_return_of(script: Any, data: bytes) -> bool:
    try:
        parts = list(script.raw_iter())
    except CScriptInvalidError:
        return False  # a truncated push: not an OP_RETURN of ours, whatever it is
    return len(parts) == 2 and parts[0][0] == OP_RETURN and parts[1][1] == data


def verify_op_return_anchor(
    proof: bytes | str | Mapping[str, Any],
    root: bytes,
    prefix: bytes,
    header: bytes,
) -> datetime:
    """Check that ``root`` was written into a transaction of the block ``header`` heads.

    ``proof`` is the proof object, or a whole anchor payload that holds one under
    ``"proof"``, as a mapping or as JSON. ``header`` must come from a source the
    verifier trusts. Returns the header time (UTC); raises a
    :class:`~notarium.core.errors.ProofVerificationError` subclass saying what failed.
    """
    fields = _proof_fields(proof)
    if len(root) != ROOT_SIZE:
        raise MalformedBitcoinProofError(
            f"an anchor root is a {ROOT_SIZE}-byte digest, got {len(root)} bytes"
        )
    if len(header) != HEADER_SIZE:
        raise MalformedBitcoinProofError(
            f"a block header is {HEADER_SIZE} bytes, got {len(header)}"
        )
    block = CBlockHeader.deserialize(header)
    block_hash = sha256d(header)[::-1].hex()
    claimed_block = fields.get("block_hash")
    if claimed_block is not None and _hex(fields, "block_hash", 32).hex() != block_hash:
        raise BitcoinProofMismatchError(
            f"the proof names block {claimed_block}, but the header given is block {block_hash}"
        )

    raw = _hex(fields, "raw_tx")
    if len(raw) == AMBIGUOUS_TX_SIZE:
        raise BitcoinProofMismatchError(
            "the transaction is 64 bytes long, which a Merkle tree cannot tell apart "
            "from an inner node; no proof can rest on it"
        )
    try:
        tx = CTransaction.deserialize(raw)
    except Exception as exc:
        # python-bitcoinlib raises several unrelated types on malformed input.
        raise MalformedBitcoinProofError(
            f"raw_tx is not a Bitcoin transaction: {type(exc).__name__}: {exc}"
        ) from exc
    txid = tx.GetTxid()
    claimed_txid = _hex(fields, "txid", 32).hex()
    if txid[::-1].hex() != claimed_txid:
        raise BitcoinProofMismatchError(
            f"raw_tx hashes to txid {txid[::-1].hex()}, not the {claimed_txid} the proof names"
        )
    try:
        expected = op_return_data(prefix, root)
    except ValueError as exc:
        raise MalformedBitcoinProofError(str(exc)) from exc
    if not carries(tx, expected):
        raise BitcoinProofMismatchError(
            f"transaction {claimed_txid} has no OP_RETURN output carrying "
            f"{prefix.hex()} || {root.hex()}"
        )

    index = fields.get("tx_index")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise MalformedBitcoinProofError("tx_index must be a non-negative integer")
    branch_field = fields.get("merkle_branch")
    if not isinstance(branch_field, list) or len(branch_field) > MAX_BRANCH:
        raise MalformedBitcoinProofError(
            f"merkle_branch must be a list of at most {MAX_BRANCH} hashes"
        )
    if index >> len(branch_field):
        raise MalformedBitcoinProofError(
            f"tx_index {index} does not fit a Merkle branch of {len(branch_field)} levels"
        )
    branch = [
        _hex_value(item, f"merkle_branch[{i}]", 32)[::-1] for i, item in enumerate(branch_field)
    ]
    computed = merkle_root_from_branch(txid, index, branch)
    if computed != block.hashMerkleRoot:
        raise BitcoinProofMismatchError(
            f"the Merkle branch of transaction {claimed_txid} leads to "
            f"{computed[::-1].hex()}, but block {block_hash} has Merkle root "
            f"{bytes(block.hashMerkleRoot)[::-1].hex()}"
        )
    return datetime.fromtimestamp(int(block.nTime), UTC)


def _proof_fields(proof: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(proof, bytes | str):
        try:
            proof = json.loads(proof)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedBitcoinProofError(f"the proof is not JSON: {exc}") from exc
    if not isinstance(proof, Mapping):
        raise MalformedBitcoinProofError("the proof must be a JSON object")
    inner = proof.get("proof")
    if inner is not None:
        if not isinstance(inner, Mapping):
            raise MalformedBitcoinProofError("the payload's proof must be a JSON object")
        return inner
    if "raw_tx" not in proof:
        raise MalformedBitcoinProofError(
            "the payload holds no proof: the transaction has not been confirmed yet"
        )
    return proof


def _hex(fields: Mapping[str, Any], key: str, size: int | None = None) -> bytes:
    if key not in fields:
        raise MalformedBitcoinProofError(f"the proof has no {key}")
    return _hex_value(fields[key], key, size)


def _hex_value(value: object, name: str, size: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise MalformedBitcoinProofError(f"{name} must be a hex string")
    try:
        data = bytes.fromhex(value)
    except ValueError as exc:
        raise MalformedBitcoinProofError(f"{name} is not hex") from exc
    if size is not None and len(data) != size:
        raise MalformedBitcoinProofError(f"{name} must be {size} bytes, got {len(data)}")
    return data
