"""Offline verification throughput of fully anchored proofs, against its raw primitives.

Run with ``.venv/bin/python bench/verify_proofs.py [--seconds 4] [--records 3]``.

A proof is produced the way the end-to-end anchoring test produces one: records are
created through the HTTP API of a real runtime (in process), and the real anchor
clients talk to local protocol fakes from ``tests/fakes`` on loopback ports (two
OpenTimestamps calendars and bitcoind sharing one fake chain, OpenSSL as an external
RFC 3161 TSA) until every record is confirmed and in the transparency log. The fakes
are then shut down: verification is offline, with block headers read from the fake
chain as a verifier's own header source would give them.

Measured in this one process on one core, in alternating slices:

* ``verify_proof`` on the complete proof file (canonical bytes, structure, record
  signature, token, chain, Merkle path, OpenTimestamps against the headers, the
  OP_RETURN transaction, the external token, log inclusion, unused certificates, seal);
* one raw Ed25519 signature verification (``cryptography``) over the canonical record;
* one RFC 3161 token signature check, ``notarium.formats.rfc3161.token.verify_token_signature``
  on the proof's already parsed token (CMS attributes, ESS signing-certificate-v2 and
  the ECDSA signature, no OpenSSL).

The two primitives are there for scale: the ratios say what one proof verification
costs in units of them on this machine. There is no target; the script exits 0 when
the proof verified, 2 when it did not.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# Starlette's test client warns about its HTTP library on import; nothing here depends on it.
warnings.filterwarnings("ignore", message=".*starlette.testclient.*")

from fastapi.testclient import TestClient  # noqa: E402

TESTS = Path(__file__).resolve().parents[1] / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fakes.bitcoind import FakeBitcoind  # noqa: E402
from fakes.calendar import FakeCalendar  # noqa: E402
from fakes.chain import FakeChain  # noqa: E402
from fakes.openssl_tsa import OpenSslTsa  # noqa: E402
from notarium.adapters.store import migrate  # noqa: E402
from notarium.app.runtime import build_runtime  # noqa: E402
from notarium.app.settings import Settings  # noqa: E402
from notarium.formats.canonical import canonical_json  # noqa: E402
from notarium.formats.rfc3161.token import parse_timestamp_token, verify_token_signature  # noqa: E402
from notarium.http.app import create_app  # noqa: E402
from notarium.verify import BlockHeaders, verify_proof  # noqa: E402

SIGNING_KEY_FILE = "signing-ed25519.key.pem"


@dataclass(frozen=True)
class Document:
    content: bytes
    filename: str = "minutes v2.pdf"
    file_type: str | None = None


@dataclass(frozen=True)
class Anchored:
    """Everything an offline verifier of the proofs needs, once the fakes are gone."""

    proofs: tuple[bytes, ...]
    """One proof file per document, as served by ``GET /api/v1/timestamps/{id}/proof``."""
    ots_files: tuple[bytes, ...]
    """The matching ``.ots`` files from ``GET /api/v1/timestamps/{id}/ots``."""
    trust_roots: tuple[x509.Certificate, ...]
    """The notary's TSA CA, then the external TSA's CA."""
    service_public_key: bytes
    headers: dict[int, bytes]
    """Every block header of the fake chain, by height."""

    def header_source(self) -> BlockHeaders:
        return BlockHeaders(by_height=self.headers.get)


def build_anchored_proofs(
    workdir: Path,
    documents: Sequence[Document],
    *,
    key_name: str = "notary.test",
    signing_key: Ed25519PrivateKey | None = None,
    genesis_time: int | None = None,
) -> Anchored:
    """Create one record per document through the API, anchor them all in one batch
    through the fakes (as the end-to-end test does), and return their proofs.

    ``signing_key`` replaces the generated service key; ``genesis_time`` (Unix seconds)
    dates the fake chain, whose blocks then follow ten minutes apart."""
    keys = workdir / "data" / "keys"
    if signing_key is not None:
        keys.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = signing_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (keys / SIGNING_KEY_FILE).write_bytes(pem)
        (keys / SIGNING_KEY_FILE).chmod(0o600)
    chain = FakeChain() if genesis_time is None else FakeChain(genesis_time=genesis_time)
    with (
        FakeCalendar(chain) as one,
        FakeCalendar(chain) as two,
        FakeBitcoind(chain) as node,
        OpenSslTsa() as tsa,
    ):
        trust = workdir / "external-tsa-roots.pem"
        trust.write_bytes(tsa.ca_certificate.public_bytes(serialization.Encoding.PEM))
        settings = Settings(
            data_dir=workdir / "data",
            base_url=f"https://{key_name}",
            key_name=key_name,
            embedded_workers=False,
            rate_limits_enabled=False,
            ots_calendars=[one.url, two.url],
            ots_min_calendars=2,
            ots_upgrade_interval=0.0,
            bitcoin_rpc_url=node.rpc_url,
            external_tsa_urls=[tsa.url],
            external_tsa_trust=trust,
        )
        runtime = build_runtime(settings)
        try:
            migrate.upgrade(runtime.engine)
            _, issued = runtime.accounts.create_account("bench", "business")
            auth = {"Authorization": f"Bearer {issued.secret}"}
            with TestClient(create_app(runtime)) as client:
                ids = []
                for document in documents:
                    body: dict[str, object] = {
                        "sha256_hash": hashlib.sha256(document.content).hexdigest(),
                        "filename": document.filename,
                        "file_size_bytes": len(document.content),
                    }
                    if document.file_type is not None:
                        body["file_type"] = document.file_type
                    response = client.post("/api/v1/timestamps", headers=auth, json=body)
                    response.raise_for_status()
                    ids.append(response.json()["id"])
                # The worker's jobs, once each: log, batch, submit; then the blocks.
                runtime.translog.integrate()
                runtime.anchoring.run_batcher(force=True)
                runtime.anchoring.progress_anchors()
                for calendar in (one, two):
                    calendar.stamp_pending()
                node.mine()
                runtime.anchoring.progress_anchors()
                runtime.translog.integrate()
                proofs, ots_files = [], []
                for record_id in ids:
                    status = client.get(f"/api/v1/timestamps/{record_id}", headers=auth).json()
                    if status["status"] != "confirmed":
                        raise RuntimeError(f"record {record_id} is {status['status']}")
                    proof = client.get(f"/api/v1/timestamps/{record_id}/proof", headers=auth)
                    proof.raise_for_status()
                    proofs.append(proof.content)
                    ots = client.get(f"/api/v1/timestamps/{record_id}/ots", headers=auth)
                    ots.raise_for_status()
                    ots_files.append(ots.content)
            return Anchored(
                proofs=tuple(proofs),
                ots_files=tuple(ots_files),
                trust_roots=(runtime.keystore.ca_certificate(), tsa.ca_certificate),
                service_public_key=runtime.record_signer.public_key_raw,
                headers={height: chain.header(height) for height in range(chain.tip + 1)},
            )
        finally:
            runtime.close()


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity on this platform)"


def measure_interleaved(
    operations: dict[str, Callable[[], object]], seconds: float, rounds: int = 10
) -> dict[str, float]:
    """Best operations/s per operation over short alternating slices, so that every
    operation sees the same background load; the best slice approximates the
    uncontended rate."""
    for operation in operations.values():
        operation()  # warm-up: first-call costs are not what is being measured
    best = dict.fromkeys(operations, 0.0)
    slice_seconds = seconds / rounds
    for _ in range(rounds):
        for name, operation in operations.items():
            count = 0
            started = time.perf_counter()
            deadline = started + slice_seconds
            while True:
                operation()
                count += 1
                now = time.perf_counter()
                if now >= deadline:
                    break
            best[name] = max(best[name], count / (now - started))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="total time per operation")
    parser.add_argument("--records", type=int, default=3, help="records in the anchored batch")
    args = parser.parse_args()

    documents = [Document(f"benchmark document {i}".encode()) for i in range(args.records)]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="notarium-bench-") as tmp:
        # Blocks follow the records by minutes, as they would on a real chain.
        anchored = build_anchored_proofs(Path(tmp), documents, genesis_time=int(time.time()) - 480)
    setup_seconds = time.perf_counter() - started
    pinning = pin_to_one_core()

    data = anchored.proofs[0]
    digest = hashlib.sha256(documents[0].content).hexdigest()
    headers = anchored.header_source()
    keys = [anchored.service_public_key]

    def verify() -> object:
        return verify_proof(
            data,
            sha256=digest,
            trust_roots=anchored.trust_roots,
            service_public_keys=keys,
            headers=headers,
        )

    report = verify()
    if not (report.anchored and report.log_included):
        print("the benchmark proof did not verify as anchored and logged")
        return 2

    bundle = json.loads(data)
    message = canonical_json(bundle["record"])
    signature = base64.b64decode(bundle["signature"]["value"])
    public_key = Ed25519PublicKey.from_public_bytes(anchored.service_public_key)
    token = parse_timestamp_token(base64.b64decode(bundle["rfc3161"]["token"]))
    chain = [x509.load_pem_x509_certificate(pem.encode()) for pem in bundle["rfc3161"]["chain"]]

    def ed25519_verify() -> object:
        public_key.verify(signature, message)
        return None

    def token_signature() -> object:
        return verify_token_signature(token, chain)

    rates = measure_interleaved(
        {"proof": verify, "ed25519": ed25519_verify, "token": token_signature}, args.seconds
    )
    proof_rate = rates["proof"]
    print(f"python {sys.version.split()[0]}, {pinning}")
    print(
        f"setup: {args.records} records anchored through the fakes in {setup_seconds:.1f} s; "
        f"proof file {len(data)} bytes"
    )
    print("anchors: " + next(c.detail for c in report.checks if c.name == "anchors"))
    print(f"verify_proof (complete anchored proof):       {proof_rate:10.1f} proofs/s")
    print(f"raw Ed25519 verification (record, cryptography): {rates['ed25519']:10.0f} /s")
    print(f"RFC 3161 token signature (verify_token_signature): {rates['token']:10.0f} /s")
    print(
        f"ratio verify_proof/Ed25519: {proof_rate / rates['ed25519']:.4f} "
        f"(one proof costs {rates['ed25519'] / proof_rate:.0f} Ed25519 verifications)"
    )
    print(
        f"ratio verify_proof/token signature: {proof_rate / rates['token']:.4f} "
        f"(one proof costs {rates['token'] / proof_rate:.1f} token signature checks)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
