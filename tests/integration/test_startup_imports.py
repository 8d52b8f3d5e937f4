"""Start-up stays light: the command line and the web application import the PDF, browser
and archive libraries only when a request needs them (each costs seconds of CPU on a
small machine before the first request could be answered)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Top-level packages that no process may load merely by starting.
HEAVY = ("pyhanko", "reportlab", "playwright", "aiohttp", "pkg_resources", "cdxj_indexer")
# What `notarium --help` must not load either: it needs none of the service.
SERVICE = ("notarium.http", "notarium.app.runtime", "fastapi", "sqlalchemy", "pydantic")

_APP = """
import json, sys
import notarium.cli.main
from fastapi.testclient import TestClient
from notarium.app.settings import Settings
from notarium.http.app import create_app
from notarium.app.runtime import build_runtime
from notarium.adapters.store import migrate

runtime = build_runtime(
    Settings(data_dir=sys.argv[1], ots_calendars=[], embedded_workers=False)
)
migrate.upgrade(runtime.engine)
with TestClient(create_app(runtime)) as client:
    assert client.get("/healthz").status_code == 200
runtime.close()
print(json.dumps(sorted(sys.modules)))
"""

_HELP = """
import contextlib, io, json, sys
from notarium.cli.main import cli

with contextlib.redirect_stdout(io.StringIO()) as out:
    cli(["--help"], standalone_mode=False)
assert "serve" in out.getvalue()
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(code: str, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def _loaded(modules: set[str], roots: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == r or m.startswith(f"{r}.") for r in roots))


def test_building_the_app_and_answering_healthz_imports_no_heavy_library(
    tmp_path: Path,
) -> None:
    modules = _modules_after(_APP, str(tmp_path / "data"))
    # The check can fail: the application itself was imported and answered.
    assert "notarium.http.app" in modules and "fastapi" in modules
    assert _loaded(modules, HEAVY) == []


def test_help_imports_neither_the_app_nor_the_database_layer() -> None:
    modules = _modules_after(_HELP)
    assert "notarium.cli.main" in modules and "click" in modules
    assert _loaded(modules, HEAVY + SERVICE) == []
