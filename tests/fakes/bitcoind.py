"""A Bitcoin Core JSON-RPC server on a loopback port, with a wallet and a mempool.

It answers the calls notarium makes with bitcoind's JSON shapes, HTTP statuses and
error codes (JSON-RPC 1.0: errors come with HTTP 500, unknown methods with 404,
bad credentials with a bare 401). Transactions are real python-bitcoinlib objects:
``fundrawtransaction`` adds an input from an imaginary coin and a change output,
``signrawtransactionwithwallet`` adds a (meaningless) segwit witness, so txids and
wtxids differ as they do on the real network. Blocks are mined only when a test
calls :meth:`FakeBitcoind.mine`, into the shared :class:`FakeChain`.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import struct
import time
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from urllib.parse import quote

from bitcoin.core import (
    COutPoint,
    CTransaction,
    CTxIn,
    CTxInWitness,
    CTxOut,
    CTxWitness,
    b2lx,
)
from bitcoin.core.script import OP_RETURN, CScript, CScriptWitness
from bitcoin.core.serialize import VectorSerializer, ser_read

from fakes.chain import FakeChain
from fakes.loopback import LoopbackServer, Reply, Request

COIN = 100_000_000
FUNDING_VALUE = COIN
BASE_FEE = 1_000
BUMP_INCREMENT = 1_000
MAX_OP_RETURN_SCRIPT = 83  # bitcoind's default -datacarriersize

# bitcoind's error codes (src/rpc/protocol.h).
RPC_MISC_ERROR = -1
RPC_TYPE_ERROR = -3
RPC_WALLET_ERROR = -4
RPC_INVALID_ADDRESS_OR_KEY = -5
RPC_INVALID_PARAMETER = -8
RPC_DESERIALIZATION_ERROR = -22
RPC_VERIFY_REJECTED = -26
RPC_VERIFY_ALREADY_IN_CHAIN = -27
RPC_METHOD_NOT_FOUND = -32601


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class WalletTx:
    tx: CTransaction
    fee: int
    received: int
    replaced_by: str | None = None
    replaces: str | None = None


def decode_tx(raw: bytes) -> CTransaction:
    """As bitcoind's DecodeHexTx: a transaction with the segwit marker and flag and at
    least one input is read with its witness; anything else (a transaction without
    inputs, whose empty input vector looks like a marker) without.

    Trying the legacy reading first would be wrong: with random witness bytes it can,
    rarely, consume a signed segwit transaction exactly and return one without inputs."""
    if raw[4:6] == b"\x00\x01":
        try:
            segwit: CTransaction | None = CTransaction.deserialize(raw)
        except Exception:
            segwit = None
        if segwit is not None and segwit.vin:
            return segwit
    return _decode_legacy(raw)


def _decode_legacy(raw: bytes) -> CTransaction:
    f = BytesIO(raw)
    version = struct.unpack("<i", ser_read(f, 4))[0]
    vin = VectorSerializer.stream_deserialize(CTxIn, f)
    vout = VectorSerializer.stream_deserialize(CTxOut, f)
    locktime = struct.unpack("<I", ser_read(f, 4))[0]
    if f.read(1):
        raise ValueError("trailing bytes")
    return CTransaction(vin, vout, locktime, version)


def _hex_param(params: list[Any], index: int, name: str) -> bytes:
    if len(params) <= index or not isinstance(params[index], str):
        raise RpcError(RPC_TYPE_ERROR, f"Expected type string for {name}")
    try:
        return bytes.fromhex(params[index])
    except ValueError as exc:
        raise RpcError(RPC_DESERIALIZATION_ERROR, "TX decode failed") from exc


def _txid_param(params: list[Any], index: int = 0) -> str:
    if len(params) <= index or not isinstance(params[index], str):
        raise RpcError(RPC_TYPE_ERROR, "Expected type string for txid")
    value = params[index]
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value.lower()):
        raise RpcError(RPC_INVALID_PARAMETER, f"txid must be hexadecimal string (not '{value}')")
    return value.lower()


def _btc(sats: int) -> float:
    return sats / COIN


class FakeBitcoind(LoopbackServer):
    """``with FakeBitcoind(chain) as node:``; ``BitcoinRpc(node.rpc_url)`` talks to it."""

    name = "bitcoind"

    def __init__(
        self,
        chain: FakeChain,
        *,
        user: str = "notarium",
        password: str = "correct horse",  # noqa: S107
    ) -> None:
        super().__init__()
        self.chain = chain
        self.user = user
        self.password = password
        self._mempool: dict[str, CTransaction] = {}
        self._held: set[str] = set()
        self._wallet: dict[str, WalletTx] = {}
        self._fees: dict[str, int] = {}
        self._calls: list[str] = []
        self.bump_error: str | None = None
        """When set, bumpfee fails with this message (as when funds run out)."""

    # -- identity -------------------------------------------------------------------

    @property
    def rpc_url(self) -> str:
        return self.url_with(self.user, self.password)

    def url_with(self, user: str, password: str) -> str:
        return f"http://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}/"

    @property
    def calls(self) -> list[str]:
        """The methods called so far, in order (authenticated calls only)."""
        with self._lock:
            return list(self._calls)

    @property
    def mempool(self) -> list[str]:
        with self._lock:
            return list(self._mempool)

    # -- knobs ----------------------------------------------------------------------

    def mine(self) -> int:
        """Mine every mempool transaction that is not held into a new block."""
        with self._lock:
            ready = [txid for txid in self._mempool if txid not in self._held]
            height = self.chain.mine([self._mempool[txid] for txid in ready])
            for txid in ready:
                del self._mempool[txid]
            return height

    def hold(self, txid: str) -> None:
        """Keep ``txid`` out of blocks (as if its fee were too low) until released."""
        with self._lock:
            self._held.add(txid)

    def release(self, txid: str) -> None:
        with self._lock:
            self._held.discard(txid)

    # -- protocol -------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        if request.method != "POST":
            return Reply(405, b"JSONRPC server handles only POST requests", "text/html")
        if not self._authorised(request.headers.get("authorization", "")):
            return Reply(401, b"", "text/html", {"WWW-Authenticate": 'Basic realm="jsonrpc"'})
        try:
            call = json.loads(request.body)
        except ValueError:
            return self._reply(None, error=RpcError(-32700, "Parse error"), status=500)
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            return self._reply(None, error=RpcError(-32600, "Invalid Request object"), status=400)
        request_id = call.get("id")
        method = call["method"]
        params = call.get("params", [])
        if not isinstance(params, list):
            return self._reply(request_id, error=RpcError(-32600, "Params must be an array"))
        handler = getattr(self, f"_rpc_{method}", None)
        if handler is None:
            return self._reply(
                request_id, error=RpcError(RPC_METHOD_NOT_FOUND, "Method not found"), status=404
            )
        with self._lock:
            self._calls.append(method)
            try:
                result = handler(params)
            except RpcError as exc:
                return self._reply(request_id, error=exc)
        return self._reply(request_id, result=result)

    def _authorised(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded, validate=True)
        except ValueError:
            return False
        expected = f"{self.user}:{self.password}".encode()
        return hmac.compare_digest(given, expected)

    @staticmethod
    def _reply(
        request_id: object,
        *,
        result: object = None,
        error: RpcError | None = None,
        status: int = 500,
    ) -> Reply:
        body: dict[str, object] = {"result": result, "error": None, "id": request_id}
        if error is not None:
            body["error"] = {"code": error.code, "message": error.message}
        else:
            status = 200
        return Reply(status, json.dumps(body).encode() + b"\n", "application/json")

    # -- raw transactions ---------------------------------------------------------------

    def _rpc_createrawtransaction(self, params: list[Any]) -> str:
        inputs = params[0] if params else []
        outputs = params[1] if len(params) > 1 else []
        if inputs:
            raise RpcError(
                RPC_INVALID_PARAMETER, "the fake only creates transactions without inputs"
            )
        if isinstance(outputs, dict):
            outputs = [{key: value} for key, value in outputs.items()]
        vout: list[CTxOut] = []
        for output in outputs:
            if not isinstance(output, dict) or set(output) != {"data"}:
                raise RpcError(RPC_INVALID_PARAMETER, "the fake only creates data outputs")
            try:
                data = bytes.fromhex(output["data"])
            except (TypeError, ValueError) as exc:
                raise RpcError(RPC_INVALID_PARAMETER, "Data must be hexadecimal string") from exc
            vout.append(CTxOut(0, CScript([OP_RETURN, data])))
        return str(CTransaction([], vout, nVersion=2).serialize().hex())

    def _rpc_fundrawtransaction(self, params: list[Any]) -> dict[str, Any]:
        tx = self._decode(_hex_param(params, 0, "hexstring"))
        options = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
        sequence = 0xFFFFFFFD if options.get("replaceable", True) else 0xFFFFFFFE
        funding = CTxIn(COutPoint(os.urandom(32), 0), CScript(), sequence)
        change = CTxOut(FUNDING_VALUE - BASE_FEE, CScript([0, os.urandom(20)]))
        funded = CTransaction([*tx.vin, funding], [*tx.vout, change], tx.nLockTime, tx.nVersion)
        self._fees[b2lx(funded.GetTxid())] = BASE_FEE
        return {
            "hex": funded.serialize().hex(),
            "fee": _btc(BASE_FEE),
            "changepos": len(funded.vout) - 1,
        }

    def _rpc_signrawtransactionwithwallet(self, params: list[Any]) -> dict[str, Any]:
        tx = self._decode(_hex_param(params, 0, "hexstring"))
        return {"hex": _signed(tx).serialize().hex(), "complete": True}

    def _rpc_sendrawtransaction(self, params: list[Any]) -> str:
        tx = self._decode(_hex_param(params, 0, "hexstring"))
        txid = str(b2lx(tx.GetTxid()))
        if self.chain.find_tx(txid) is not None:
            raise RpcError(RPC_VERIFY_ALREADY_IN_CHAIN, "Transaction already in block chain")
        if txid in self._mempool:
            return txid
        for output in tx.vout:
            script = output.scriptPubKey
            if script and script[0] == OP_RETURN and len(script) > MAX_OP_RETURN_SCRIPT:
                raise RpcError(RPC_VERIFY_REJECTED, "scriptpubkey")
        spent = {(i.prevout.hash, i.prevout.n) for i in tx.vin}
        for other in self._mempool.values():
            if spent & {(i.prevout.hash, i.prevout.n) for i in other.vin}:
                raise RpcError(RPC_VERIFY_REJECTED, "txn-mempool-conflict")
        if not tx.wit.vtxinwit or any(w.is_null() for w in tx.wit.vtxinwit):
            raise RpcError(
                RPC_VERIFY_REJECTED,
                "mandatory-script-verify-flag-failed (Witness program was passed an empty witness)",
            )
        self._mempool[txid] = tx
        self._wallet.setdefault(txid, WalletTx(tx, self._fees.get(txid, 0), int(time.time())))
        return txid

    def _rpc_getrawtransaction(self, params: list[Any]) -> Any:
        txid = _txid_param(params)
        tx = self._mempool.get(txid)
        if tx is None:
            found = self.chain.find_tx(txid)
            if found is None:
                raise RpcError(
                    RPC_INVALID_ADDRESS_OR_KEY,
                    "No such mempool or blockchain transaction. Use gettransaction for wallet "
                    "transactions.",
                )
            tx = found[1]
        return tx.serialize().hex()

    # -- wallet ---------------------------------------------------------------------

    def _rpc_gettransaction(self, params: list[Any]) -> dict[str, Any]:
        txid = _txid_param(params)
        record = self._wallet.get(txid)
        if record is None:
            raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "Invalid or non-wallet transaction id")
        confirmations, height = self._depth(txid)
        result: dict[str, Any] = {
            "amount": 0.0,
            "fee": -_btc(record.fee),
            "confirmations": confirmations,
            "txid": txid,
            "wtxid": b2lx(record.tx.GetHash()),
            "walletconflicts": [t for t in (record.replaced_by, record.replaces) if t],
            "time": record.received,
            "timereceived": record.received,
            "bip125-replaceable": "no" if confirmations > 0 else "yes",
            "details": [],
            "hex": record.tx.serialize().hex(),
        }
        if height is not None:
            block_hash = self.chain.block_hash(height)
            result.update(
                blockhash=block_hash,
                blockheight=height,
                blockindex=self.chain.txids(height).index(txid),
                blocktime=int(self.chain.block(height).nTime),
            )
        if record.replaced_by:
            result["replaced_by_txid"] = record.replaced_by
        if record.replaces:
            result["replaces_txid"] = record.replaces
        return result

    def _depth(self, txid: str) -> tuple[int, int | None]:
        """bitcoind's confirmations: depth if mined, minus the depth of the replacement
        that was mined instead, else 0."""
        found = self.chain.find_tx(txid)
        if found is not None:
            return self.chain.tip - found[0] + 1, found[0]
        successor = self._wallet[txid].replaced_by
        while successor is not None:
            mined = self.chain.find_tx(successor)
            if mined is not None:
                return -(self.chain.tip - mined[0] + 1), None
            successor = self._wallet[successor].replaced_by
        return 0, None

    def _rpc_bumpfee(self, params: list[Any]) -> dict[str, Any]:
        txid = _txid_param(params)
        record = self._wallet.get(txid)
        if record is None:
            raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "Invalid or non-wallet transaction id")
        if self._depth(txid)[0] != 0:
            raise RpcError(
                RPC_WALLET_ERROR,
                "Transaction has been mined, or is conflicted with a mined transaction",
            )
        if record.replaced_by is not None:
            raise RpcError(
                RPC_INVALID_PARAMETER,
                f"Cannot bump transaction {txid} which was already bumped by transaction "
                f"{record.replaced_by}",
            )
        if not any(i.nSequence < 0xFFFFFFFE for i in record.tx.vin):
            raise RpcError(RPC_WALLET_ERROR, "Transaction is not BIP 125 replaceable")
        if self.bump_error is not None:
            raise RpcError(RPC_WALLET_ERROR, self.bump_error)
        fee = record.fee + BUMP_INCREMENT
        change = len(record.tx.vout) - 1
        vout = list(record.tx.vout)
        vout[change] = CTxOut(vout[change].nValue - BUMP_INCREMENT, vout[change].scriptPubKey)
        replacement = _signed(
            CTransaction(record.tx.vin, vout, record.tx.nLockTime, record.tx.nVersion)
        )
        new_txid = str(b2lx(replacement.GetTxid()))
        self._mempool.pop(txid, None)
        self._mempool[new_txid] = replacement
        record.replaced_by = new_txid
        self._wallet[new_txid] = WalletTx(replacement, fee, int(time.time()), replaces=txid)
        return {"txid": new_txid, "origfee": _btc(record.fee), "fee": _btc(fee), "errors": []}

    def _rpc_estimatesmartfee(self, params: list[Any]) -> dict[str, Any]:
        target = params[0] if params and isinstance(params[0], int) else 6
        return {"feerate": 0.00001, "blocks": max(2, target)}

    # -- chain ----------------------------------------------------------------------

    def _rpc_getblockcount(self, params: list[Any]) -> int:
        return self.chain.tip

    def _rpc_getblockhash(self, params: list[Any]) -> str:
        height = params[0] if params else None
        if not isinstance(height, int) or not 0 <= height <= self.chain.tip:
            raise RpcError(RPC_INVALID_PARAMETER, "Block height out of range")
        return self.chain.block_hash(height)

    def _height(self, params: list[Any]) -> int:
        block_hash = params[0] if params else None
        if not isinstance(block_hash, str):
            raise RpcError(RPC_TYPE_ERROR, "Expected type string for blockhash")
        try:
            height = self.chain.height_of(block_hash)
        except ValueError:
            height = None
        if height is None:
            raise RpcError(RPC_INVALID_ADDRESS_OR_KEY, "Block not found")
        return height

    def _rpc_getblockheader(self, params: list[Any]) -> Any:
        height = self._height(params)
        verbose = params[1] if len(params) > 1 else True
        if not verbose:
            return self.chain.header(height).hex()
        return self._header_fields(height)

    def _rpc_getblock(self, params: list[Any]) -> Any:
        height = self._height(params)
        verbosity = params[1] if len(params) > 1 else 1
        if verbosity is False or verbosity == 0:
            return self.chain.block(height).serialize().hex()
        if verbosity is True or verbosity == 1:
            block = self.chain.block(height)
            return {
                **self._header_fields(height),
                "strippedsize": len(block.serialize({"include_witness": False})),
                "size": len(block.serialize()),
                "weight": block.GetWeight(),
                "tx": self.chain.txids(height),
            }
        raise RpcError(RPC_INVALID_PARAMETER, "the fake serves getblock verbosity 0 and 1")

    def _header_fields(self, height: int) -> dict[str, Any]:
        block = self.chain.block(height)
        fields: dict[str, Any] = {
            "hash": self.chain.block_hash(height),
            "confirmations": self.chain.tip - height + 1,
            "height": height,
            "version": block.nVersion,
            "versionHex": f"{block.nVersion:08x}",
            "merkleroot": b2lx(block.hashMerkleRoot),
            "time": block.nTime,
            "mediantime": block.nTime,
            "nonce": block.nNonce,
            "bits": f"{block.nBits:08x}",
            "difficulty": block.difficulty,
            "nTx": len(block.vtx),
        }
        if height > 0:
            fields["previousblockhash"] = self.chain.block_hash(height - 1)
        if height < self.chain.tip:
            fields["nextblockhash"] = self.chain.block_hash(height + 1)
        return fields

    # -- helpers --------------------------------------------------------------------

    @staticmethod
    def _decode(raw: bytes) -> CTransaction:
        try:
            return decode_tx(raw)
        except Exception as exc:
            raise RpcError(RPC_DESERIALIZATION_ERROR, "TX decode failed") from exc


def _signed(tx: CTransaction) -> CTransaction:
    """The transaction with a P2WPKH-shaped witness (a DER-sized signature and a
    compressed key) on every input; nothing checks it, but it shapes the bytes."""
    witness = CTxWitness(
        [CTxInWitness(CScriptWitness([os.urandom(71), b"\x02" + os.urandom(32)])) for _ in tx.vin]
    )
    return CTransaction(tx.vin, tx.vout, tx.nLockTime, tx.nVersion, witness)
