"""The operator commands: init, accounts, keys, db upgrade; all honour NOTARIUM_DATA_DIR."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from notarium.cli.main import cli
from notarium.ledger.accounts.keys import parse_mode


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("NOTARIUM_DATA_DIR", str(path))
    monkeypatch.delenv("NOTARIUM_DATABASE_URL", raising=False)
    return path


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_init_creates_keys_once(data_dir: Path) -> None:
    first = invoke("init")
    assert "API key:" in first and "admin key:" in first
    keys = data_dir / "keys"
    for name in ("ca.key.pem", "tsa.key.pem", "signing-ed25519.key.pem"):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    before = {p.name: p.read_bytes() for p in keys.iterdir()}
    second = invoke("init")
    assert "API key:" not in second
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == before
    assert (data_dir / "notarium.db").exists()


def test_accounts_and_keys_json(data_dir: Path) -> None:
    invoke("db", "upgrade")
    created = json.loads(invoke("accounts", "create", "acme", "--plan", "business", "--json"))
    assert set(created) == {"account_id", "api_key"}
    assert parse_mode(created["api_key"]) == "live"

    test_key = json.loads(
        invoke(
            "keys", "create", "--account", "acme", "--test", "--scope", "timestamps:read", "--json"
        )
    )
    assert set(test_key) == {"key_id", "api_key"}
    assert test_key["api_key"].startswith("ntk_test_")

    listed = json.loads(invoke("keys", "list", "--account", "acme", "--json"))
    assert len(listed) == 2
    assert all(created["api_key"] not in json.dumps(row) for row in listed)

    rotated = json.loads(invoke("keys", "rotate", "--account", "acme", "--json"))
    listed = json.loads(invoke("keys", "list", "--account", "acme", "--json"))
    live = [row for row in listed if row["mode"] == "live"]
    assert [row["key_id"] for row in live if not row["revoked"]] == [rotated["key_id"]]
    test_rows = [row for row in listed if row["mode"] == "test"]
    assert test_rows and not test_rows[0]["revoked"]

    invoke("keys", "revoke", test_key["key_id"])
    listed = json.loads(invoke("keys", "list", "--account", "acme", "--json"))
    assert all(row["revoked"] for row in listed if row["mode"] == "test")


def test_errors_are_clear(data_dir: Path) -> None:
    invoke("db", "upgrade")
    invoke("accounts", "create", "acme")
    result = CliRunner().invoke(cli, ["accounts", "create", "acme"])
    assert result.exit_code != 0 and "ACCOUNT_EXISTS" in result.output
    result = CliRunner().invoke(cli, ["keys", "create", "--account", "nobody"])
    assert result.exit_code != 0 and "ACCOUNT_NOT_FOUND" in result.output
    result = CliRunner().invoke(cli, ["keys", "create", "--account", "acme", "--scope", "root"])
    assert result.exit_code != 0 and "root" in result.output


def test_hashing_with_progress_matches_plain_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import io

    from notarium.cli import proofs as cli_proofs

    data = tmp_path / "big.bin"
    data.write_bytes(bytes(range(256)) * 20_000)
    shown = io.StringIO()
    shown.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(cli_proofs, "PROGRESS_THRESHOLD", 1)
    monkeypatch.setattr(cli_proofs.sys, "stderr", shown)
    assert cli_proofs._hash_with_progress(data) == hashlib.sha256(data.read_bytes()).hexdigest()
    assert "hashing big.bin" in shown.getvalue()


def test_an_unknown_key_is_refused_with_its_code(data_dir: Path) -> None:
    invoke("db", "upgrade")
    result = CliRunner().invoke(cli, ["keys", "revoke", "key_nothing"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: KEY_NOT_FOUND: ")
