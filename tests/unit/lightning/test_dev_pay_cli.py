"""``notarium dev pay``: settles a development-node invoice and prints the preimage."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from notarium.adapters.lightning.dev import DevLightningNode
from notarium.adapters.lightning.ports import InvoiceState
from notarium.app.runtime import Runtime
from notarium.app.settings import Settings
from notarium.app.wiring.lightning import build_dev_node, build_lightning
from notarium.cli.main import cli


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    for name in list(os.environ):
        if name.startswith("NOTARIUM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NOTARIUM_DATA_DIR", str(path))
    return path


@pytest.fixture
def node(data_dir: Path) -> DevLightningNode:
    return build_dev_node(Settings())


def pay(*args: str) -> Result:
    return CliRunner().invoke(cli, ["dev", "pay", *args])


def test_dev_pay_prints_the_preimage(node: DevLightningNode) -> None:
    invoice = node.create_invoice(25_000, "timestamp", 600)

    result = pay(invoice.payment_request)

    assert result.exit_code == 0, result.output
    preimage = result.stdout.strip()
    assert len(preimage) == 64
    assert hashlib.sha256(bytes.fromhex(preimage)).hexdigest() == invoice.payment_hash
    assert node.lookup_invoice(invoice.payment_hash).settled is True


def test_dev_pay_json(node: DevLightningNode) -> None:
    invoice = node.create_invoice(1_234, "timestamp", 600)
    result = pay("--json", invoice.payment_request)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer == {
        "preimage": answer["preimage"],
        "payment_hash": invoice.payment_hash,
        "amount_sats": 1_234,
    }
    assert hashlib.sha256(bytes.fromhex(answer["preimage"])).hexdigest() == invoice.payment_hash


def test_dev_pay_refuses_what_the_node_refuses(node: DevLightningNode, tmp_path: Path) -> None:
    invoice = node.create_invoice(10, "timestamp", 600)
    assert pay(invoice.payment_request).exit_code == 0

    again = pay(invoice.payment_request)
    assert again.exit_code == 1
    assert "invoice_already_paid" in again.stderr and again.stdout == ""

    stranger = DevLightningNode(tmp_path / "other" / "keys", tmp_path / "other" / "state")
    foreign = pay(stranger.create_invoice(10, "elsewhere", 600).payment_request)
    assert foreign.exit_code == 1 and "foreign_invoice" in foreign.stderr

    garbage = pay("lnbcrt1garbage")
    assert garbage.exit_code == 1 and "invalid_invoice" in garbage.stderr


def test_dev_pay_is_refused_unless_the_dev_backend_is_active(
    node: DevLightningNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice = node.create_invoice(10, "timestamp", 600)
    monkeypatch.setenv("NOTARIUM_LIGHTNING_BACKEND", "lnd")
    monkeypatch.setenv("NOTARIUM_LND_REST_URL", "https://127.0.0.1:9")

    result = pay(invoice.payment_request)

    assert result.exit_code != 0
    assert "NOTARIUM_LIGHTNING_BACKEND is 'lnd'" in result.stderr
    assert "Lightning wallet" in result.stderr
    assert result.stdout == ""
    assert node.lookup_invoice(invoice.payment_hash).settled is False


@pytest.mark.slow
def test_a_payment_from_another_process_reaches_the_server(
    node: DevLightningNode, data_dir: Path
) -> None:
    """The server process follows settlements; ``notarium dev pay`` runs as its own
    process, sharing nothing with it but the data directory."""
    invoice = node.create_invoice(25_000, "timestamp", 600)
    settlements = node.settlements()
    seen: list[InvoiceState] = []
    thread = threading.Thread(target=lambda: seen.append(next(settlements)), daemon=True)
    thread.start()

    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARIUM_")}
    env["NOTARIUM_DATA_DIR"] = str(data_dir)
    paid = subprocess.run(
        [sys.executable, "-m", "notarium.cli.main", "dev", "pay", invoice.payment_request],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert paid.returncode == 0, paid.stderr
    assert hashlib.sha256(bytes.fromhex(paid.stdout.strip())).hexdigest() == invoice.payment_hash
    thread.join(10)
    node.close()
    assert [s.payment_hash for s in seen] == [invoice.payment_hash]
    assert seen[0].settled and seen[0].amount_paid_sats == 25_000


def test_the_factory_defaults_to_the_dev_node(data_dir: Path) -> None:
    backend = build_lightning(Settings())
    assert isinstance(backend, DevLightningNode)
    assert backend.currency == "bcrt"
    assert (
        build_lightning(Settings(lightning_dev_currency="tb"))
        .create_invoice(1, "m", 60)
        .payment_request.startswith("lntb")
    )


def test_runtime_carries_the_lightning_backend(runtime: Runtime) -> None:
    assert isinstance(runtime.lightning, DevLightningNode)
    invoice = runtime.lightning.create_invoice(10, "runtime", 600)
    assert (runtime.settings.data_dir / "lightning-dev").is_dir()
    assert runtime.lightning.lookup_invoice(invoice.payment_hash).settled is False
