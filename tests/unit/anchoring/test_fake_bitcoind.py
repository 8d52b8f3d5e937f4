"""The fake bitcoind answers with bitcoind's shapes, statuses and error codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from bitcoin.core import CTransaction

from fakes.bitcoind import FakeBitcoind, decode_tx
from fakes.chain import FakeChain


@pytest.fixture
def chain() -> FakeChain:
    return FakeChain()


@pytest.fixture
def node(chain: FakeChain) -> Iterator[FakeBitcoind]:
    with FakeBitcoind(chain) as server:
        yield server


def rpc(
    node: FakeBitcoind, method: str, *params: Any, auth: tuple[str, str] | None = None
) -> httpx.Response:
    return httpx.post(
        node.url,
        json={"jsonrpc": "1.0", "id": "t", "method": method, "params": list(params)},
        auth=auth or (node.user, node.password),
    )


def result(node: FakeBitcoind, method: str, *params: Any) -> Any:
    answer = rpc(node, method, *params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["error"] is None and body["id"] == "t"
    return body["result"]


def send_anchor(node: FakeBitcoind, data: bytes = b"NTRM" + b"\x11" * 32) -> str:
    raw = result(node, "createrawtransaction", [], [{"data": data.hex()}])
    funded = result(node, "fundrawtransaction", raw, {"replaceable": True})
    assert set(funded) == {"hex", "fee", "changepos"}
    signed = result(node, "signrawtransactionwithwallet", funded["hex"])
    assert signed["complete"] is True
    txid: str = result(node, "sendrawtransaction", signed["hex"])
    return txid


def test_credentials(node: FakeBitcoind) -> None:
    answer = rpc(node, "getblockcount", auth=(node.user, "wrong"))
    assert answer.status_code == 401
    assert answer.content == b""
    assert answer.headers["www-authenticate"] == 'Basic realm="jsonrpc"'
    assert httpx.post(node.url, json={"method": "getblockcount"}).status_code == 401
    assert node.calls == []
    assert result(node, "getblockcount") == 0


def test_errors_follow_json_rpc_1(node: FakeBitcoind) -> None:
    answer = rpc(node, "nosuchmethod")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == -32601
    answer = rpc(node, "gettransaction", "00" * 32)
    assert answer.status_code == 500
    assert answer.json() == {
        "result": None,
        "error": {"code": -5, "message": "Invalid or non-wallet transaction id"},
        "id": "t",
    }
    assert rpc(node, "getblockhash", 5).json()["error"]["code"] == -8


def test_send_mine_and_look_up(node: FakeBitcoind, chain: FakeChain) -> None:
    txid = send_anchor(node)
    assert node.mempool == [txid]
    pending = result(node, "gettransaction", txid)
    assert pending["confirmations"] == 0 and "blockhash" not in pending
    assert pending["wtxid"] != txid  # signed with a witness
    tx = CTransaction.deserialize(bytes.fromhex(pending["hex"]))
    assert tx.GetTxid()[::-1].hex() == txid

    height = node.mine()
    assert node.mempool == []
    done = result(node, "gettransaction", txid)
    assert done["confirmations"] == 1
    assert done["blockheight"] == height
    assert done["blockhash"] == chain.block_hash(height) == result(node, "getblockhash", height)
    block = result(node, "getblock", done["blockhash"], 1)
    assert block["height"] == height and block["tx"] == chain.txids(height)
    assert block["tx"][done["blockindex"]] == txid
    assert result(node, "getblockheader", done["blockhash"], False) == chain.header(height).hex()
    assert result(node, "getblockheader", done["blockhash"])["merkleroot"] == block["merkleroot"]
    assert result(node, "getblockcount") == height
    node.mine()
    assert result(node, "gettransaction", txid)["confirmations"] == 2
    answer = rpc(node, "sendrawtransaction", pending["hex"])
    assert answer.json()["error"]["code"] == -27


def test_hold_and_bump(node: FakeBitcoind) -> None:
    first = send_anchor(node)
    node.hold(first)
    node.mine()
    assert result(node, "gettransaction", first)["confirmations"] == 0
    bumped = result(node, "bumpfee", first)
    assert set(bumped) == {"txid", "origfee", "fee", "errors"}
    assert bumped["fee"] > bumped["origfee"]
    second = bumped["txid"]
    assert node.mempool == [second]
    assert result(node, "gettransaction", first)["replaced_by_txid"] == second
    again = rpc(node, "bumpfee", first).json()["error"]
    assert "already bumped" in again["message"]
    node.mine()
    assert result(node, "gettransaction", second)["confirmations"] == 1
    assert result(node, "gettransaction", first)["confirmations"] == -1
    mined = rpc(node, "bumpfee", second).json()["error"]
    assert mined["code"] == -4 and "mined" in mined["message"]


def test_oversized_op_return_is_not_relayed(node: FakeBitcoind) -> None:
    raw = result(node, "createrawtransaction", [], [{"data": "00" * 81}])
    funded = result(node, "fundrawtransaction", raw, {})
    signed = result(node, "signrawtransactionwithwallet", funded["hex"])
    error = rpc(node, "sendrawtransaction", signed["hex"]).json()["error"]
    assert error == {"code": -26, "message": "scriptpubkey"}


def test_input_less_transactions_decode_without_witness() -> None:
    tx = decode_tx(bytes.fromhex("02000000000100000000000000000a6a08" + "ab" * 8 + "00000000"))
    assert len(tx.vin) == 0 and len(tx.vout) == 1


def test_fail_next(node: FakeBitcoind) -> None:
    node.fail_next()
    assert rpc(node, "getblockcount").status_code == 500
    assert result(node, "getblockcount") == 0
