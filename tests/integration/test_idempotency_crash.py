"""A server process that dies after a timestamp's record is committed, before it could
answer, leaves the idempotent response stored with it: the client's retry with the same
Idempotency-Key gets the original 201, not DUPLICATE_TIMESTAMP or IDEMPOTENCY_IN_PROGRESS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from server import server_env

from conftest import make_tenant
from notarium.adapters.store import migrate
from notarium.app.runtime import build_runtime
from notarium.app.settings import Settings
from notarium.http.app import create_app

BODY = {
    "sha256_hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "filename": "msa-v3.pdf",
    "file_size_bytes": 248331,
    "file_type": "application/pdf",
}
KEY = "contract-msa-v3-2026-04-13"

# The dying server: the real app, whose process exits the instant the records service
# returns from its committed transaction, before anything else of the request runs.
DYING_SERVER = """
import json, os, sys
from fastapi.testclient import TestClient
from notarium.app.settings import Settings
from notarium.http.app import create_app
from notarium.app.runtime import build_runtime

runtime = build_runtime(Settings())
committed = runtime.records.create

def create_then_die(*args, **kwargs):
    view = committed(*args, **kwargs)
    with open(sys.argv[1], "w") as out:
        json.dump({"id": view.id}, out)
    os._exit(137)

runtime.records.create = create_then_die
client = TestClient(create_app(runtime))
client.post("/api/v1/timestamps", content=sys.argv[3],
            headers={"Authorization": "Bearer " + sys.argv[2],
                     "Content-Type": "application/json", "Idempotency-Key": sys.argv[4]})
print("the process survived", flush=True)
"""


def test_retry_after_a_crash_between_commit_and_answer(
    tmp_path: Path, process_database_url: str | None
) -> None:
    data = tmp_path / "data"
    url = {"database_url": process_database_url} if process_database_url else {}
    settings = Settings(data_dir=data, ots_calendars=[], embedded_workers=False, **url)
    runtime = build_runtime(settings)
    try:
        migrate.upgrade(runtime.engine)
        tenant = make_tenant(runtime)
    finally:
        runtime.close()

    witness = tmp_path / "committed.json"
    body = json.dumps(BODY)
    env = server_env(data, NOTARIUM_EMBEDDED_WORKERS="false")
    if process_database_url:
        env["NOTARIUM_DATABASE_URL"] = process_database_url
    died = subprocess.run(
        [sys.executable, "-c", DYING_SERVER, str(witness), tenant.key, body, KEY],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert died.returncode == 137, died.stdout + died.stderr
    committed_id = json.loads(witness.read_text())["id"]

    runtime = build_runtime(settings)
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            retry = client.post(
                "/api/v1/timestamps",
                content=body,
                headers={**tenant.auth, "Content-Type": "application/json", "Idempotency-Key": KEY},
            )
            assert retry.status_code == 201, retry.text
            assert retry.headers["idempotent-replayed"] == "true"
            replayed = retry.json()
            assert replayed["id"] == committed_id
            fetched = client.get(f"/api/v1/timestamps/{committed_id}", headers=tenant.auth)
            assert replayed == fetched.json()
            listed = client.get("/api/v1/timestamps", headers=tenant.auth).json()
            assert listed["total_count"] == 1
            # The replay is stable: a second retry gets the very same bytes.
            again = client.post(
                "/api/v1/timestamps",
                content=body,
                headers={**tenant.auth, "Content-Type": "application/json", "Idempotency-Key": KEY},
            )
            assert again.status_code == 201 and again.content == retry.content
    finally:
        runtime.close()
