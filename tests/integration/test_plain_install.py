"""A plain install serves: the wheel, installed without extras into a fresh virtual
environment, runs `notarium serve` and `notarium verify`.

Everything the service imports at run time must come from the runtime dependencies; a
module that only a test extra provides would pass every other test and still crash a
user's `pip install notarium`. pip reuses its cache, so after a first run this costs
about the time of resolving the dependencies.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from server import Server, server_env

from readiness import DEADLINE

REPO = Path(__file__).resolve().parents[2]
# Installing resolves and unpacks several dozen wheels: slower than any start-up.
INSTALL_TIMEOUT = max(DEADLINE, 600.0)
# The first test also builds and installs (the session fixture): more than the suite's
# 300 s per test on a loaded machine without a warm pip cache.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(INSTALL_TIMEOUT + 300)]
# Packages only the test extra brings: none may be importable from the plain install.
TEST_ONLY = ("wacz", "pytest", "hypothesis", "flask", "schemathesis", "aiosmtpd", "pyhanko_cli")


@dataclass(frozen=True)
class PlainInstall:
    python: Path
    notarium: Path


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    # No NOTARIUM_* settings and no PYTHONPATH leak in from the test run.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARIUM_")}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="session")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlainInstall]:
    """The wheel built from a copy of the source (so no build directory lands in the
    checkout), installed into a new virtual environment with no extras."""
    root = tmp_path_factory.mktemp("plain-install")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "src",
        source / "src",
        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"),
    )
    dist = root / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", dist, source)
    (wheel,) = dist.glob("notarium-*.whl")
    venv = root / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    _run(python, "-m", "pip", "install", "--disable-pip-version-check", wheel)
    yield PlainInstall(python, venv / "bin" / "notarium")


def test_the_plain_install_has_no_test_extra(plain_install: PlainInstall) -> None:
    code = (
        "import importlib.util, json; "
        f"print(json.dumps({{m: importlib.util.find_spec(m) is not None for m in {TEST_ONLY!r}}}))"
    )
    found = json.loads(_run(plain_install.python, "-c", code))
    assert found == dict.fromkeys(TEST_ONLY, False)
    # And it is a different environment from the one running the tests.
    location = _run(plain_install.python, "-c", "import notarium; print(notarium.__file__)")
    assert location.strip().startswith(str(plain_install.python.parents[1]))


def test_the_plain_install_serves_stamps_and_verifies(
    plain_install: PlainInstall, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = Server(data, server_env(data), notarium=str(plain_install.notarium))
    server.start()
    try:
        assert server.api_key.startswith("ntk_live_"), server.log
        document = tmp_path / "minutes.txt"
        document.write_bytes(b"minutes of the meeting, signed by all present\n")
        digest = hashlib.sha256(document.read_bytes()).hexdigest()
        auth = {"Authorization": f"Bearer {server.api_key}"}
        created = httpx.post(
            f"{server.url}/api/v1/timestamps",
            headers=auth,
            json={
                "sha256_hash": digest,
                "filename": document.name,
                "file_size_bytes": document.stat().st_size,
            },
            timeout=DEADLINE,
        )
        assert created.status_code == 201, created.text
        # The sealed certificate PDF loads reportlab, pyHanko and Pillow on demand: they
        # must be in the plain install too.
        pdf = httpx.get(
            f"{server.url}/api/v1/timestamps/{created.json()['id']}/certificate.pdf",
            headers=auth,
            timeout=DEADLINE,
        )
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-"), pdf.text[:500]
        proof = tmp_path / "minutes.proof.json"
        server.cli(
            "proof",
            created.json()["id"],
            "-o",
            str(proof),
            "--server",
            server.url,
            "--api-key",
            server.api_key,
        )
        ca = data / "keys" / "ca.cert.pem"
        checked = json.loads(
            server.cli("verify", str(document), str(proof), "--trust", str(ca), "--json").stdout
        )
        assert checked["ok"] is True and checked["sha256"] == digest
        # A document the proof is not about fails, from the same installation.
        other = tmp_path / "other.txt"
        other.write_bytes(b"not the minutes\n")
        refused = server.cli("verify", str(other), str(proof), "--trust", str(ca), check=False)
        assert refused.returncode == 1 and "FAILED" in refused.stderr
    finally:
        server.stop()
