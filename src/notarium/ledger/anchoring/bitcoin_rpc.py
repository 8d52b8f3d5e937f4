"""Anchoring batch roots directly in Bitcoin through a Bitcoin Core wallet.

:class:`BitcoinRpc` is a small JSON-RPC 1.0 client (the dialect bitcoind speaks);
:class:`BitcoinAnchor` uses the node's wallet to publish one transaction per root
with an ``OP_RETURN prefix || root`` output, bumps its fee (BIP 125 replace-by-fee)
when it lingers, and once it is confirmed stores everything an offline verifier
needs: :func:`notarium.formats.bitcoin_proof.verify_op_return_anchor` checks it
against nothing but the block header.

Payload (JSON, UTF-8)::

    {"format": "notarium-bitcoin-op-return", "version": 1,
     "prefix": "<hex>", "root": "<hex>",
     "txid": "<newest txid>", "txids": ["<every txid tried, oldest first>"],
     "raw_txs": {"<txid>": "<hex>"}, "polls": 0, "bumps": 0, "last_error": null,
     "confirmed": {"txid", "height", "block_hash", "confirmations"} | null,
     "proof": {...} | absent}

``proof`` appears once the transaction has the required confirmations; its shape is
documented in :mod:`notarium.formats.bitcoin_proof`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import httpx
from bitcoin.core import CTransaction

from notarium.core.errors import ConfigurationError, ProofVerificationError, ValidationError
from notarium.formats.bitcoin_proof import (
    HEADER_SIZE,
    MAX_OP_RETURN_DATA,
    carries,
    merkle_branch,
    op_return_data,
    sha256d,
    verify_op_return_anchor,
)
from notarium.ledger.anchoring.ports import AnchorState, AnchorUnavailable
from notarium.ledger.anchoring.transport import BoundedHttp

KIND: Final = "bitcoin"
PAYLOAD_FORMAT: Final = "notarium-bitcoin-op-return"
PAYLOAD_VERSION: Final = 1
ROOT_SIZE: Final = 32
#: ``getblock`` with verbosity 1 lists every txid of a block: a few hundred KiB.
MAX_RESPONSE_SIZE: Final = 16 * 1024 * 1024


class BitcoinConfigurationError(ConfigurationError):
    code = "ANCHOR_CONFIGURATION_ERROR"


class InvalidBitcoinRootError(ValidationError):
    code = "INVALID_ANCHOR_ROOT"


class CorruptBitcoinPayloadError(ValidationError):
    """A stored payload that this anchor never wrote: the database was altered."""

    code = "INVALID_ANCHOR_PAYLOAD"


class BitcoinRpcError(AnchorUnavailable):
    """bitcoind answered the call with a JSON-RPC error."""

    def __init__(self, method: str, rpc_code: int | None, rpc_message: str) -> None:
        super().__init__(f"bitcoind refused {method}: {rpc_message} (code {rpc_code})")
        self.method = method
        self.rpc_code = rpc_code
        self.rpc_message = rpc_message


class BitcoinRpc:
    """``BitcoinRpc("http://user:password@127.0.0.1:8332/wallet/notary")``.

    Credentials come from the URL's userinfo and are sent as HTTP basic auth; they
    never appear in :attr:`url`, names or messages. One attempt per call.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise BitcoinConfigurationError(f"invalid bitcoind RPC URL: {exc}") from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise BitcoinConfigurationError("the bitcoind RPC URL must be an absolute http(s) URL")
        if timeout <= 0:
            raise BitcoinConfigurationError("the bitcoind RPC timeout must be positive")
        self._auth = (parsed.username, parsed.password) if parsed.username else None
        self._url = parsed.copy_with(userinfo=b"")
        self._timeout = timeout
        self._transport = transport
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        """The endpoint without credentials."""
        return str(self._url)

    def call(self, method: str, *params: Any) -> Any:
        """Call ``method``; its ``result``, or :class:`AnchorUnavailable` for any failure."""
        request_id = next(self._ids)
        body = json.dumps(
            {"jsonrpc": "1.0", "id": request_id, "method": method, "params": list(params)}
        ).encode()
        status, content = self._post(method, body)
        if status in (401, 403):
            raise AnchorUnavailable(
                f"bitcoind at {self.url} rejected the RPC credentials (HTTP {status})"
            )
        try:
            answer = json.loads(content)
        except (ValueError, UnicodeDecodeError):
            answer = None
        if not isinstance(answer, dict):
            raise AnchorUnavailable(
                f"bitcoind at {self.url} answered {method} with HTTP {status} and no JSON-RPC "
                f"response ({len(content)} bytes)"
            )
        error = answer.get("error")
        if error is not None:
            if isinstance(error, dict):
                code = error.get("code")
                raise BitcoinRpcError(
                    method,
                    code if isinstance(code, int) else None,
                    str(error.get("message", "no message"))[:500],
                )
            raise BitcoinRpcError(method, None, str(error)[:500])
        if status != 200:
            raise AnchorUnavailable(f"bitcoind at {self.url} answered {method} with HTTP {status}")
        if answer.get("id") != request_id or "result" not in answer:
            raise AnchorUnavailable(
                f"bitcoind at {self.url} answered {method} with a response to another request"
            )
        return answer["result"]

    def _post(self, method: str, body: bytes) -> tuple[int, bytes]:
        return BoundedHttp(
            f"bitcoind at {self.url} ({method})",
            self._timeout,
            MAX_RESPONSE_SIZE,
            self._transport,
        ).exchange(
            "POST",
            self._url,
            content=body,
            auth=self._auth,
            headers={"Content-Type": "application/json", "User-Agent": "notarium"},
        )


class BitcoinAnchor:
    """One OP_RETURN transaction per batch root, paid for by the node's wallet.

    ``confirmations`` is how deep the block must be before the anchor is complete;
    after ``bump_after`` polls without a confirmation the fee is bumped with
    ``bumpfee`` (0 never bumps). Every txid tried is kept: whichever confirms wins.
    """

    def __init__(
        self,
        rpc: BitcoinRpc,
        *,
        prefix: bytes = b"NTRM",
        confirmations: int = 1,
        bump_after: int = 3,
    ) -> None:
        if len(prefix) + ROOT_SIZE > MAX_OP_RETURN_DATA:
            raise BitcoinConfigurationError(
                f"the OP_RETURN prefix is {len(prefix)} bytes; with a {ROOT_SIZE}-byte root "
                f"it must fit in {MAX_OP_RETURN_DATA} bytes, so at most "
                f"{MAX_OP_RETURN_DATA - ROOT_SIZE}"
            )
        if confirmations < 1:
            raise BitcoinConfigurationError("at least one confirmation is required")
        if bump_after < 0:
            raise BitcoinConfigurationError("bump_after cannot be negative")
        self._rpc = rpc
        self._prefix = prefix
        self._confirmations = confirmations
        self._bump_after = bump_after

    @property
    def name(self) -> str:
        return f"{KIND}:{self._rpc.url}"

    @property
    def kind(self) -> str:
        return KIND

    @property
    def prefix(self) -> bytes:
        return self._prefix

    # -- the protocol ------------------------------------------------------------------

    def submit(self, root: bytes) -> AnchorState:
        """Create, fund, sign and broadcast the transaction; one attempt."""
        if len(root) != ROOT_SIZE:
            raise InvalidBitcoinRootError(
                f"an anchor root is a {ROOT_SIZE}-byte digest, got {len(root)} bytes"
            )
        data = op_return_data(self._prefix, root)
        unfunded = _text(
            self._rpc.call("createrawtransaction", [], [{"data": data.hex()}]),
            "createrawtransaction",
        )
        funded = _object(
            self._rpc.call("fundrawtransaction", unfunded, {"replaceable": True}),
            "fundrawtransaction",
        )
        signed = _object(
            self._rpc.call("signrawtransactionwithwallet", _text(funded.get("hex"), "hex")),
            "signrawtransactionwithwallet",
        )
        if signed.get("complete") is not True:
            raise AnchorUnavailable(
                f"bitcoind at {self._rpc.url} could not sign the anchor transaction completely: "
                f"{json.dumps(signed.get('errors'))[:300]}"
            )
        raw = _text(signed.get("hex"), "signrawtransactionwithwallet hex")
        txid = self._check_transaction(raw, data)
        sent = _text(self._rpc.call("sendrawtransaction", raw), "sendrawtransaction")
        if sent != txid:
            raise AnchorUnavailable(
                f"bitcoind at {self._rpc.url} broadcast {sent}, but the signed transaction "
                f"is {txid}"
            )
        payload: dict[str, Any] = {
            "format": PAYLOAD_FORMAT,
            "version": PAYLOAD_VERSION,
            "prefix": self._prefix.hex(),
            "root": root.hex(),
            "txid": txid,
            "txids": [txid],
            "raw_txs": {txid: raw},
            "polls": 0,
            "bumps": 0,
            "last_error": None,
            "confirmed": None,
        }
        return _state(payload)

    def upgrade(self, root: bytes, state: AnchorState) -> AnchorState:
        """Check every txid tried once; bump the fee or collect the proof as due."""
        payload = self._load(root, state)
        if "proof" in payload:
            result = _state(payload)
            return state if result == state else result
        confirmed: tuple[str, dict[str, Any]] | None = None
        for txid in reversed(payload["txids"]):
            info = _object(self._rpc.call("gettransaction", txid), "gettransaction")
            raw = info.get("hex")
            if isinstance(raw, str) and raw:
                payload["raw_txs"][txid] = raw
            depth = info.get("confirmations")
            if isinstance(depth, int) and not isinstance(depth, bool) and depth > 0:
                confirmed = (txid, info)
                break
        if confirmed is not None:
            txid, info = confirmed
            depth = int(info["confirmations"])
            block_hash = _text(info.get("blockhash"), "gettransaction blockhash")
            if depth >= self._confirmations:
                payload["proof"] = self._proof(root, txid, block_hash, payload)
                payload["confirmed"] = {
                    "txid": txid,
                    "height": payload["proof"]["height"],
                    "block_hash": block_hash,
                    "confirmations": depth,
                }
            else:
                height = info.get("blockheight")
                payload["confirmed"] = {
                    "txid": txid,
                    "height": height if isinstance(height, int) else None,
                    "block_hash": block_hash,
                    "confirmations": depth,
                }
            payload["polls"] = 0
        else:
            payload["confirmed"] = None
            payload["polls"] += 1
            if self._bump_after and payload["polls"] >= self._bump_after:
                self._bump(payload)
        result = _state(payload)
        return state if result == state else result

    # -- helpers -----------------------------------------------------------------------

    def _bump(self, payload: dict[str, Any]) -> None:
        payload["polls"] = 0
        current = payload["txid"]
        try:
            bumped = _object(self._rpc.call("bumpfee", current), "bumpfee")
        except BitcoinRpcError as exc:
            # The node said no (the fee is at its cap, the wallet has spent the change…):
            # waiting is still right, and the next poll may find the transaction mined.
            payload["last_error"] = exc.message
            return
        new = _text(bumped.get("txid"), "bumpfee txid")
        if not _is_txid(new):
            raise AnchorUnavailable(f"bitcoind at {self._rpc.url} bumped to a bad txid {new!r}")
        if new not in payload["txids"]:
            payload["txids"].append(new)
        payload["txid"] = new
        payload["bumps"] += 1
        payload["last_error"] = None

    def _check_transaction(self, raw: str, data: bytes) -> str:
        """The txid of a signed transaction, after checking it carries our output."""
        try:
            tx = CTransaction.deserialize(bytes.fromhex(raw))
        except Exception as exc:
            # python-bitcoinlib raises several unrelated types on malformed input.
            raise AnchorUnavailable(
                f"bitcoind at {self._rpc.url} signed something that is not a transaction: "
                f"{type(exc).__name__}"
            ) from exc
        if not carries(tx, data):
            raise AnchorUnavailable(
                f"the transaction bitcoind at {self._rpc.url} signed lacks the OP_RETURN output"
            )
        return str(tx.GetTxid()[::-1].hex())

    def _proof(
        self, root: bytes, txid: str, block_hash: str, payload: Mapping[str, Any]
    ) -> dict[str, Any]:
        block = _object(self._rpc.call("getblock", block_hash, 1), "getblock")
        txids = block.get("tx")
        height = block.get("height")
        if (
            not isinstance(txids, list)
            or not all(isinstance(t, str) and _is_txid(t) for t in txids)
            or not isinstance(height, int)
        ):
            raise AnchorUnavailable(
                f"bitcoind at {self._rpc.url} answered getblock {block_hash} without a "
                "txid list and height"
            )
        if txid not in txids:
            raise AnchorUnavailable(
                f"bitcoind at {self._rpc.url} says {txid} is in block {block_hash}, "
                "but the block does not list it"
            )
        header_hex = _text(self._rpc.call("getblockheader", block_hash, False), "getblockheader")
        try:
            header = bytes.fromhex(header_hex)
        except ValueError as exc:
            raise AnchorUnavailable(
                f"bitcoind at {self._rpc.url} answered getblockheader with non-hex text"
            ) from exc
        if len(header) != HEADER_SIZE or sha256d(header)[::-1].hex() != block_hash:
            raise AnchorUnavailable(
                f"bitcoind at {self._rpc.url} answered getblockheader {block_hash} with "
                "another block's header"
            )
        raw = payload["raw_txs"].get(txid)
        if not isinstance(raw, str):
            raise AnchorUnavailable(
                f"bitcoind at {self._rpc.url} never sent the raw transaction {txid}"
            )
        try:
            stripped = _stripped(raw)
        except Exception as exc:
            # python-bitcoinlib raises several unrelated types on malformed input.
            raise AnchorUnavailable(
                f"bitcoind at {self._rpc.url} sent a raw transaction {txid} that does not "
                f"decode: {type(exc).__name__}"
            ) from exc
        index = txids.index(txid)
        branch = merkle_branch([bytes.fromhex(t)[::-1] for t in txids], index)
        proof: dict[str, Any] = {
            "txid": txid,
            "raw_tx": stripped,
            "height": height,
            "block_hash": block_hash,
            "header": header.hex(),
            "tx_index": index,
            "merkle_branch": [sibling[::-1].hex() for sibling in branch],
        }
        try:
            verify_op_return_anchor(proof, root, self._prefix, header)
        except ProofVerificationError as exc:
            raise AnchorUnavailable(
                f"bitcoind at {self._rpc.url} gave inconsistent data for {txid}: {exc.message}"
            ) from exc
        return proof

    def _load(self, root: bytes, state: AnchorState) -> dict[str, Any]:
        try:
            payload = json.loads(state.payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptBitcoinPayloadError(
                f"the stored payload of {self.name} is not JSON"
            ) from exc
        if (
            not isinstance(payload, dict)
            or payload.get("format") != PAYLOAD_FORMAT
            or payload.get("version") != PAYLOAD_VERSION
            or not isinstance(payload.get("txids"), list)
            or not payload["txids"]
            or not all(isinstance(t, str) and _is_txid(t) for t in payload["txids"])
            or not isinstance(payload.get("raw_txs"), dict)
            or not isinstance(payload.get("polls"), int)
            or not isinstance(payload.get("bumps"), int)
        ):
            raise CorruptBitcoinPayloadError(
                f"the stored payload of {self.name} is not a {PAYLOAD_FORMAT} payload"
            )
        if payload.get("root") != root.hex():
            raise CorruptBitcoinPayloadError(
                f"the stored payload of {self.name} anchors root {payload.get('root')}, "
                f"not {root.hex()}"
            )
        return payload


def _state(payload: Mapping[str, Any]) -> AnchorState:
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    proof = payload.get("proof")
    if isinstance(proof, Mapping):
        header = bytes.fromhex(proof["header"])
        return AnchorState(
            payload=encoded,
            complete=True,
            bitcoin_txid=proof["txid"],
            bitcoin_height=proof["height"],
            bitcoin_block_time=datetime.fromtimestamp(int.from_bytes(header[68:72], "little"), UTC),
        )
    confirmed = payload.get("confirmed")
    if isinstance(confirmed, Mapping):
        return AnchorState(
            payload=encoded,
            complete=False,
            bitcoin_txid=confirmed.get("txid"),
            bitcoin_height=confirmed.get("height"),
        )
    return AnchorState(payload=encoded, complete=False)


def _stripped(raw: str) -> str:
    """The serialisation without witness data, the one whose hash is the txid."""
    tx = CTransaction.deserialize(bytes.fromhex(raw))
    return str(CTransaction(tx.vin, tx.vout, tx.nLockTime, tx.nVersion).serialize().hex())


def _is_txid(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise AnchorUnavailable(f"bitcoind answered {what} without the expected string")
    return value


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AnchorUnavailable(f"bitcoind answered {what} without the expected object")
    return value
