"""The data directory is created 0700 and the embedded database with its -wal and -shm
files 0600, whatever the umask: they hold every record, key hash and sealed secret."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from notarium.adapters.store import migrate
from notarium.app.runtime import build_runtime
from notarium.app.settings import Settings
from notarium.cli.main import cli


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The common default, under which SQLite and mkdir would make world-readable files."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _assert_private(data: Path, database: Path) -> None:
    assert mode(data) == 0o700
    companions = [Path(f"{database}-wal"), Path(f"{database}-shm")]
    for path in (database, *companions):
        assert path.exists(), path
        assert mode(path) == 0o600, (path, oct(mode(path)))


def test_runtime_creates_a_private_data_dir_and_database(tmp_path: Path) -> None:
    data = tmp_path / "srv" / "data"
    runtime = build_runtime(Settings(data_dir=data, ots_calendars=[], embedded_workers=False))
    try:
        migrate.upgrade(runtime.engine)
        runtime.accounts.create_account("acme", "pro")
        # While a connection is open, SQLite keeps the WAL and shared-memory files.
        with runtime.sessions() as session:
            session.connection()
            _assert_private(data, data / "notarium.db")
            assert mode(tmp_path / "srv") == 0o700
            assert mode(data / "keys") == 0o700
    finally:
        runtime.close()


def test_cli_database_commands_create_it_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    elsewhere = tmp_path / "db" / "notary.sqlite"
    monkeypatch.setenv("NOTARIUM_DATA_DIR", str(data))
    monkeypatch.setenv("NOTARIUM_DATABASE_URL", f"sqlite:///{elsewhere}")
    result = CliRunner().invoke(cli, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert mode(elsewhere) == 0o600 and mode(elsewhere.parent) == 0o700
    assert mode(data) == 0o700


def test_an_existing_loose_database_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # noqa: S103 - the loose mode under test
    database = data / "notarium.db"
    database.touch()
    os.chmod(database, 0o644)
    runtime = build_runtime(Settings(data_dir=data, ots_calendars=[], embedded_workers=False))
    try:
        migrate.upgrade(runtime.engine)
        assert mode(database) == 0o600
        # An existing directory is the operator's choice and stays as it was.
        assert mode(data) == 0o755
    finally:
        runtime.close()
