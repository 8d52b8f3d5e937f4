"""Client commands: time-stamp files on a server, fetch their proofs, verify offline."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import sys
from pathlib import Path
from typing import Any

import click

from notarium.core.errors import NotariumError

_server = click.option(
    "--server",
    envvar="NOTARIUM_SERVER",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Base URL of the notarium service.",
)
_api_key = click.option(
    "--api-key", envvar="NOTARIUM_API_KEY", required=True, help="API key (or NOTARIUM_API_KEY)."
)

PROGRESS_THRESHOLD = 16 * 1024 * 1024


def _hash_with_progress(path: Path) -> str:
    from notarium.core.hashing.sha256 import sha256_file

    size = path.stat().st_size
    if size < PROGRESS_THRESHOLD or not sys.stderr.isatty():
        return sha256_file(path)
    with click.progressbar(length=size, label=f"hashing {path.name}", file=sys.stderr) as bar:
        # The hasher reports a running total; the bar wants increments.
        def advance(total: int) -> None:
            bar.update(total - bar.pos)

        return sha256_file(path, progress=advance)


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@_server
@_api_key
@click.option("--json", "as_json", is_flag=True)
def stamp(files: tuple[Path, ...], server: str, api_key: str, as_json: bool) -> None:
    """Hash FILES locally and timestamp their hashes; the content never leaves this machine."""
    from notarium.client.sdk import ApiError, NotariumClient

    failures = 0
    with NotariumClient(server, api_key) as client:
        for path in files:
            size = path.stat().st_size
            if size == 0:
                failures += 1
                click.echo(f"{path}: empty files cannot be timestamped", err=True)
                continue
            digest = _hash_with_progress(path)
            # Derived from what is sent, so re-running after a lost reply replays the
            # original answer instead of failing as a duplicate.
            key = hashlib.sha256(f"{digest}:{path.name}:{size}".encode()).hexdigest()
            try:
                created = client.create_timestamp(
                    sha256=digest,
                    filename=path.name,
                    file_size_bytes=size,
                    file_type=mimetypes.guess_type(path.name)[0],
                    idempotency_key=key,
                )
            except ApiError as error:
                failures += 1
                click.echo(f"{path}: {error.message}", err=True)
                continue
            if as_json:
                click.echo(json.dumps({"file": str(path), **created}))
            else:
                click.echo(f"{created['id']}  {created['certificate_id']}  {digest}  {path}")
    if failures:
        sys.exit(1)


@click.command()
@click.argument("timestamp_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@_server
@_api_key
def proof(timestamp_id: str, output: Path, server: str, api_key: str) -> None:
    """Download the proof bundle of a timestamp."""
    from notarium.client.sdk import ApiError, NotariumClient

    with NotariumClient(server, api_key) as client:
        try:
            bundle = client.proof(timestamp_id)
        except ApiError as error:
            raise click.ClickException(error.message) from None
    output.write_bytes(bundle)
    click.echo(f"wrote {output}")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument(
    "proof_file",
    metavar="[PROOF]",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM file of trusted root certificate(s): the service's TSA CA and any "
    "external TSA roots (repeatable). Required with PROOF; for an evidence package, "
    "the CA inside it is trusted when this is left out.",
)
@click.option(
    "--service-key",
    "service_keys",
    multiple=True,
    help="Pin the service's Ed25519 public key (base64 of the 32 raw bytes).",
)
@click.option("--bitcoin-rpc", help="Bitcoin Core JSON-RPC URL to fetch block headers from.")
@click.option(
    "--block-header",
    "block_headers",
    multiple=True,
    help="An 80-byte block header in hex to check attestations against (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify(
    file: Path,
    proof_file: Path | None,
    trust: tuple[Path, ...],
    service_keys: tuple[str, ...],
    bitcoin_rpc: str | None,
    block_headers: tuple[str, ...],
    as_json: bool,
) -> None:
    """Check FILE against PROOF offline: hash, RFC 3161 token and chain, signature, Merkle
    path, anchors and log inclusion. Exits 1 naming the first check that failed.

    With FILE an evidence package (a web capture's ZIP) and no PROOF: check every artifact
    against the manifest, the manifest's signature and token, the WACZ and its signature,
    and the record's proof inside. Exits 1 if any check failed."""
    import base64

    from cryptography import x509

    from notarium.core.hashing.sha256 import sha256_file
    from notarium.verify import BlockHeaders, verify_proof

    roots = [c for p in trust for c in x509.load_pem_x509_certificates(p.read_bytes())]
    try:
        pinned = [base64.b64decode(k, validate=True) for k in service_keys]
        given = tuple(bytes.fromhex(h) for h in block_headers)
    except ValueError:
        raise click.ClickException("--service-key must be base64, --block-header hex") from None
    headers = BlockHeaders(
        by_height=_rpc_headers(bitcoin_rpc) if bitcoin_rpc else None, given=given
    )
    if proof_file is None:
        _verify_evidence(file, roots, pinned, headers, as_json)
        return
    if not roots:
        raise click.ClickException("--trust is required to check a file against a proof")
    try:
        report = verify_proof(
            proof_file.read_bytes(),
            sha256=sha256_file(file),
            trust_roots=roots,
            service_public_keys=pinned,
            headers=headers,
        )
    except NotariumError as error:
        if as_json:
            click.echo(json.dumps({"ok": False, "code": error.code, "error": error.message}))
        else:
            click.echo(f"FAILED {error.code}: {error.message}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": True,
                    "sha256": report.sha256,
                    "certificate_id": report.certificate_id,
                    "gen_time": report.gen_time.isoformat(),
                    "checks": [
                        {"name": c.name, "status": c.status, "detail": c.detail}
                        for c in report.checks
                    ],
                    "anchors": [
                        {"kind": a.kind, "status": a.status, "detail": a.detail}
                        for a in report.anchors
                    ],
                }
            )
        )
        return
    for check in report.checks:
        click.echo(f"{check.status.upper():<8} {check.name}: {check.detail}")
    click.echo(f"OK: {file} (sha256 {report.sha256}) time-stamped at {report.gen_time.isoformat()}")


def _verify_evidence(
    file: Path, roots: list[Any], pinned: list[bytes], headers: Any, as_json: bool
) -> None:
    from notarium.formats.evidence.package import looks_like_evidence_package
    from notarium.verify.evidence import report_json, report_lines, verify_evidence_package

    data = file.read_bytes()
    if not looks_like_evidence_package(data):
        raise click.ClickException(
            f"{file} is not an evidence package; give a PROOF to check a file against"
        )
    report = verify_evidence_package(
        data, trust_roots=roots or None, service_public_keys=pinned, headers=headers
    )
    if as_json:
        click.echo(json.dumps(report_json(report)))
    else:
        for line in report_lines(report):
            click.echo(line, err=not report.ok and line.startswith("FAILED"))
    if not report.ok:
        sys.exit(1)


def _rpc_headers(url: str) -> Any:
    from notarium.ledger.anchoring.bitcoin_rpc import BitcoinRpc

    rpc = BitcoinRpc(url)

    def header(height: int) -> bytes | None:
        try:
            block_hash = rpc.call("getblockhash", height)
            return bytes.fromhex(rpc.call("getblockheader", block_hash, False))
        except NotariumError:
            return None

    return header
