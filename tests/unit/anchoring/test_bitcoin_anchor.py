"""BitcoinAnchor and BitcoinRpc against the fake bitcoind."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator

import httpx
import pytest
from bitcoin.core import CBlockHeader

from fakes.bitcoind import FakeBitcoind
from fakes.chain import FakeChain
from fakes.loopback import Reply
from notarium.formats.bitcoin_proof import verify_op_return_anchor
from notarium.ledger.anchoring.bitcoin_rpc import (
    BitcoinAnchor,
    BitcoinConfigurationError,
    BitcoinRpc,
    BitcoinRpcError,
    CorruptBitcoinPayloadError,
    InvalidBitcoinRootError,
)
from notarium.ledger.anchoring.ports import Anchor, AnchorState, AnchorUnavailable


@pytest.fixture
def chain() -> FakeChain:
    return FakeChain()


@pytest.fixture
def node(chain: FakeChain) -> Iterator[FakeBitcoind]:
    with FakeBitcoind(chain) as server:
        yield server


def _root() -> bytes:
    return hashlib.sha256(os.urandom(16)).digest()


def _payload(state: AnchorState) -> dict[str, object]:
    loaded = json.loads(state.payload)
    assert isinstance(loaded, dict)
    return loaded


def test_satisfies_the_anchor_protocol(node: FakeBitcoind) -> None:
    anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url))
    assert isinstance(anchor, Anchor)
    assert anchor.kind == "bitcoin"
    assert anchor.name == f"bitcoin:{node.url}/"
    assert node.password not in anchor.name


def test_submit_mine_complete(node: FakeBitcoind, chain: FakeChain) -> None:
    anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url))
    root = _root()
    state = anchor.submit(root)
    assert not state.complete
    assert node.calls == [
        "createrawtransaction",
        "fundrawtransaction",
        "signrawtransactionwithwallet",
        "sendrawtransaction",
    ]
    payload = _payload(state)
    txid = payload["txid"]
    assert payload["txids"] == [txid] and payload["polls"] == 0
    assert node.mempool == [txid]
    found_before = chain.find_tx(str(txid))
    assert found_before is None

    height = node.mine()
    done = anchor.upgrade(root, state)
    assert done.complete
    assert done.bitcoin_txid == txid
    assert done.bitcoin_height == height
    assert done.bitcoin_block_time == chain.block_time(height)
    proof = _payload(done)["proof"]
    assert isinstance(proof, dict)
    assert proof["header"] == chain.header(height).hex()
    assert proof["block_hash"] == chain.block_hash(height)
    # The proof stands on its own: nothing but the header from a trusted source.
    header = chain.header(height)
    assert verify_op_return_anchor(done.payload, root, b"NTRM", header) == done.bitcoin_block_time
    assert verify_op_return_anchor(proof, root, b"NTRM", header) == done.bitcoin_block_time
    merkle_root = CBlockHeader.deserialize(header).hashMerkleRoot
    assert merkle_root == chain.block(height).calc_merkle_root()

    calls = len(node.calls)
    assert anchor.upgrade(root, done) is done
    assert len(node.calls) == calls
    assert anchor.upgrade(root, AnchorState(done.payload, complete=False)) == done


def test_proof_from_a_crowded_block(node: FakeBitcoind, chain: FakeChain) -> None:
    anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url))
    roots = [_root() for _ in range(6)]
    states = [anchor.submit(root) for root in roots]
    height = node.mine()
    for root, state in zip(roots, states, strict=True):
        done = anchor.upgrade(root, state)
        assert done.complete and done.bitcoin_height == height
        verify_op_return_anchor(done.payload, root, b"NTRM", chain.header(height))


def test_waits_for_the_required_confirmations(node: FakeBitcoind) -> None:
    anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url), confirmations=3)
    root = _root()
    state = anchor.submit(root)
    height = node.mine()
    seen = anchor.upgrade(root, state)
    assert not seen.complete
    assert seen.bitcoin_height == height
    assert seen.bitcoin_txid == _payload(state)["txid"]
    node.mine()
    assert not anchor.upgrade(root, seen).complete
    node.mine()
    done = anchor.upgrade(root, seen)
    assert done.complete and done.bitcoin_height == height


def test_held_transaction_is_bumped_and_the_replacement_confirms(
    node: FakeBitcoind, chain: FakeChain
) -> None:
    anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url), bump_after=3)
    root = _root()
    state = anchor.submit(root)
    first = str(_payload(state)["txid"])
    node.hold(first)
    for polls in (1, 2):
        node.mine()
        state = anchor.upgrade(root, state)
        assert not state.complete
        assert _payload(state)["polls"] == polls
    assert "bumpfee" not in node.calls
    node.mine()
    state = anchor.upgrade(root, state)
    payload = _payload(state)
    assert "bumpfee" in node.calls
    second = payload["txid"]
    assert second != first
    assert payload["txids"] == [first, second]
    assert payload["bumps"] == 1 and payload["polls"] == 0
    assert node.mempool == [second]

    height = node.mine()
    done = anchor.upgrade(root, state)
    assert done.complete
    assert done.bitcoin_txid == second
    verify_op_return_anchor(done.payload, root, b"NTRM", chain.header(height))


def test_a_refused_bump_is_recorded_and_waiting_goes_on(node: FakeBitcoind) -> None:
    anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url), bump_after=1)
    root = _root()
    state = anchor.submit(root)
    node.hold(str(_payload(state)["txid"]))
    node.bump_error = "Insufficient total fee"
    state = anchor.upgrade(root, state)
    payload = _payload(state)
    assert "Insufficient total fee" in str(payload["last_error"])
    assert payload["bumps"] == 0 and len(payload["txids"]) == 1  # type: ignore[arg-type]


def test_bump_after_zero_never_bumps(node: FakeBitcoind) -> None:
    anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url), bump_after=0)
    root = _root()
    state = anchor.submit(root)
    node.hold(str(_payload(state)["txid"]))
    for _ in range(5):
        state = anchor.upgrade(root, state)
    assert "bumpfee" not in node.calls


def test_wrong_credentials(node: FakeBitcoind) -> None:
    anchor = BitcoinAnchor(BitcoinRpc(node.url_with(node.user, "wrong")))
    with pytest.raises(AnchorUnavailable, match="rejected the RPC credentials") as raised:
        anchor.submit(_root())
    assert "wrong" not in raised.value.message
    assert raised.value.code == "OTS_PROVIDER_ERROR"


def test_rpc_errors_carry_the_nodes_message(node: FakeBitcoind) -> None:
    rpc = BitcoinRpc(node.rpc_url)
    with pytest.raises(BitcoinRpcError, match="Invalid or non-wallet transaction id") as raised:
        rpc.call("gettransaction", "00" * 32)
    assert raised.value.rpc_code == -5
    assert isinstance(raised.value, AnchorUnavailable)
    with pytest.raises(BitcoinRpcError, match="Method not found"):
        rpc.call("nosuchmethod")
    assert rpc.call("getblockcount") == 0


def test_server_errors_timeouts_and_garbage(node: FakeBitcoind) -> None:
    anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url, timeout=0.2))
    node.fail_next()
    with pytest.raises(AnchorUnavailable, match="HTTP 500"):
        anchor.submit(_root())
    node.reply_next(Reply(200, b"{not json"))
    with pytest.raises(AnchorUnavailable, match="no JSON-RPC response"):
        anchor.submit(_root())
    node.reply_next(Reply(200, b'{"result": 5, "error": null, "id": 1}'))
    with pytest.raises(AnchorUnavailable, match="expected string"):
        BitcoinAnchor(BitcoinRpc(node.rpc_url)).submit(_root())  # a fresh client's id is 1
    node.reply_next(Reply(200, b'{"result": "00", "error": null, "id": 999}'))
    with pytest.raises(AnchorUnavailable, match="another request"):
        anchor.submit(_root())
    node.delay = 1.0
    with pytest.raises(AnchorUnavailable, match="did not answer"):
        anchor.submit(_root())
    node.delay = 0
    node.offline = True
    with pytest.raises(AnchorUnavailable, match="could not be reached"):
        anchor.submit(_root())


def test_a_node_that_lies_about_the_block_is_caught(node: FakeBitcoind, chain: FakeChain) -> None:
    anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url))
    root = _root()
    state = anchor.submit(root)
    node.mine()

    def lying(request: httpx.Request) -> httpx.Response:
        call = json.loads(request.content)
        forwarded = httpx.post(node.url, content=request.content, auth=(node.user, node.password))
        body = forwarded.json()
        if call["method"] == "getblockheader":
            body["result"] = chain.header(0).hex()
        return httpx.Response(200, json=body)

    rpc = BitcoinRpc("http://127.0.0.1:9/", transport=httpx.MockTransport(lying))
    with pytest.raises(AnchorUnavailable, match="another block's header"):
        BitcoinAnchor(rpc).upgrade(root, state)
    # The honest node still completes it afterwards.
    assert anchor.upgrade(root, state).complete


def test_oversized_op_return_is_refused() -> None:
    rpc = BitcoinRpc("http://u:p@127.0.0.1:9/")
    with pytest.raises(BitcoinConfigurationError, match="at most 48"):
        BitcoinAnchor(rpc, prefix=b"x" * 49)
    BitcoinAnchor(rpc, prefix=b"x" * 48)
    with pytest.raises(BitcoinConfigurationError):
        BitcoinAnchor(rpc, confirmations=0)
    with pytest.raises(InvalidBitcoinRootError):
        BitcoinAnchor(rpc).submit(b"\x00" * 33)


def test_longest_prefix_reaches_the_node(node: FakeBitcoind, chain: FakeChain) -> None:
    prefix = b"P" * 48
    anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url), prefix=prefix)
    root = _root()
    state = anchor.submit(root)
    height = node.mine()
    done = anchor.upgrade(root, state)
    assert verify_op_return_anchor(done.payload, root, prefix, chain.header(height))


def test_bad_urls_and_corrupt_payloads(node: FakeBitcoind) -> None:
    for bad in ("ftp://x", "not a url", "http://"):
        with pytest.raises(BitcoinConfigurationError):
            BitcoinRpc(bad)
    anchor = BitcoinAnchor(BitcoinRpc(node.rpc_url))
    root = _root()
    with pytest.raises(CorruptBitcoinPayloadError):
        anchor.upgrade(root, AnchorState(b"not json", complete=False))
    with pytest.raises(CorruptBitcoinPayloadError):
        anchor.upgrade(root, AnchorState(b'{"format": "other"}', complete=False))
    state = anchor.submit(root)
    with pytest.raises(CorruptBitcoinPayloadError, match="anchors root"):
        anchor.upgrade(_root(), state)
