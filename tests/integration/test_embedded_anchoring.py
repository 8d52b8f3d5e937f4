"""Embedded mode: `notarium serve` alone batches, anchors and logs; the command-line
verifier then checks the downloaded proof against block headers from a node (by
`--bitcoin-rpc`) or given by hand (`--block-header`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server import Server, server_env

from fakes.bitcoind import FakeBitcoind
from fakes.calendar import FakeCalendar
from fakes.chain import FakeChain
from readiness import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def anchored(tmp_path: Path) -> Iterator[tuple[Server, FakeChain, FakeCalendar, FakeBitcoind]]:
    chain = FakeChain()
    with FakeCalendar(chain) as calendar, FakeBitcoind(chain) as node:
        env = server_env(
            tmp_path / "data",
            NOTARIUM_OTS_CALENDARS=calendar.url,
            NOTARIUM_OTS_MIN_CALENDARS="1",
            NOTARIUM_BITCOIN_RPC_URL=node.rpc_url,
            NOTARIUM_BATCH_INTERVAL="0.2",
            NOTARIUM_OTS_UPGRADE_INTERVAL="0.2",
            NOTARIUM_WORKER_POLL_INTERVAL="0.05",
        )
        server = Server(tmp_path / "data", env)
        server.start()
        try:
            yield server, chain, calendar, node
        finally:
            server.stop()


def test_serve_alone_confirms_and_the_cli_verifies(
    anchored: tuple[Server, FakeChain, FakeCalendar, FakeBitcoind], tmp_path: Path
) -> None:
    server, chain, calendar, node = anchored
    document = tmp_path / "deed.txt"
    document.write_bytes(b"the deed of the house on the hill\n")
    auth = {"Authorization": f"Bearer {server.api_key}"}
    created = json.loads(
        server.cli(
            "stamp", "--server", server.url, "--api-key", server.api_key, "--json", str(document)
        ).stdout
    )
    url = f"{server.url}/api/v1/timestamps/{created['id']}"

    def confirmed() -> bool:
        calendar.stamp_pending()
        node.mine()
        return bool(httpx.get(url, headers=auth).json()["status"] == "confirmed")

    wait_for(confirmed, "the record confirmed", interval=0.2)
    record = httpx.get(url, headers=auth).json()
    assert record["bitcoin_block"] is not None and record["blockchain_tx"]
    # The log catches up on its own as well.
    wait_for(
        lambda: httpx.get(f"{url}/tlog-proof", headers=auth).status_code == 200,
        "the record in the log",
        interval=0.1,
    )

    proof = tmp_path / "deed.proof.json"
    server.cli(
        "proof",
        created["id"],
        "-o",
        str(proof),
        "--server",
        server.url,
        "--api-key",
        server.api_key,
    )
    ca = str(server.data_dir / "keys" / "ca.cert.pem")

    by_node = server.cli(
        "verify", str(document), str(proof), "--trust", ca, "--bitcoin-rpc", node.rpc_url, "--json"
    )
    report = json.loads(by_node.stdout)
    assert report["ok"] is True
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["anchors"]["status"] == "passed"
    assert "header checked against the node" in checks["anchors"]["detail"]
    assert checks["log"]["status"] == "passed"

    headers = [chain.header(h).hex() for h in range(chain.tip + 1)]
    by_hand = server.cli(
        "verify",
        str(document),
        str(proof),
        "--trust",
        ca,
        *[arg for h in headers for arg in ("--block-header", h)],
    )
    assert (
        "PASSED   anchors: " in by_hand.stdout and "OpenTimestamps: Bitcoin block" in by_hand.stdout
    )

    pending_only = server.cli("verify", str(document), str(proof), "--trust", ca)
    assert "no header to check" in pending_only.stdout

    wrong = server.cli(
        "verify", str(document), str(proof), "--trust", ca, "--block-header", "00" * 80, check=False
    )
    assert wrong.returncode == 1 and "FAILED" in wrong.stderr

    forged = tmp_path / "forged.txt"
    forged.write_bytes(document.read_bytes().replace(b"hill", b"hull"))
    failed = server.cli("verify", str(forged), str(proof), "--trust", ca, "--json", check=False)
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["code"] == "PROOF_HASH_MISMATCH"
    assert hashlib.sha256(forged.read_bytes()).hexdigest() != created["sha256_hash"]
