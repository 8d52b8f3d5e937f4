"""The ``notarium`` command: operate a server, and use one as a client."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from notarium.core.errors import NotariumError
from notarium.ledger.accounts.plans import PLANS
from notarium.ledger.accounts.scopes import ALL_SCOPES

# Each command imports what it uses when it runs: `notarium --help` or `verify` must not
# pay for the web framework, the database layer, pyHanko or Playwright.
if TYPE_CHECKING:
    from notarium.app.settings import Settings
    from notarium.ledger.accounts.keys import Mode
    from notarium.ledger.accounts.service import AccountService, IssuedKey


def _settings() -> Settings:
    from notarium.app.settings import Settings

    return Settings()


def _accounts(settings: Settings) -> AccountService:
    from notarium.adapters.store.db import make_engine, make_session_factory
    from notarium.core.clock import SystemClock
    from notarium.ledger.accounts.service import AccountService

    return AccountService(make_session_factory(make_engine(settings.database())), SystemClock())


def _fail(error: NotariumError) -> None:
    raise click.ClickException(f"{error.code}: {error.message}")


@click.group()
@click.version_option(package_name="notarium")
def cli() -> None:
    """notarium: a self-hostable digital notary."""


def _print_init(result: Any) -> None:
    if result.keys_created:
        click.echo("Created the private CA, the TSA certificate and the Ed25519 signing key.")
    if result.api_key is not None:
        click.echo(f"Created account 'default' ({result.account_id}).")
        click.echo("These keys are shown once; store them now.")
        click.echo(f"  API key:   {result.api_key.secret}")
        click.echo(f"  admin key: {result.admin_key.secret}")


@cli.command()
def init() -> None:
    """Create keys, the schema and a first account; never overwrites existing keys."""
    from notarium.app.bootstrap import initialise

    try:
        result = initialise(_settings())
    except NotariumError as error:
        _fail(error)
        return
    _print_init(result)
    if not result.keys_created and result.api_key is None:
        click.echo("Already initialised; nothing changed.")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Server processes (default 1).")
def serve(host: str, port: int, workers: int | None) -> None:
    """Run the HTTP service (initialising an embedded data directory on first run)."""
    import uvicorn

    from notarium.app.bootstrap import initialise

    settings = _settings()
    try:
        # An embedded SQLite database is migrated in place; a shared PostgreSQL schema is
        # changed only by an explicit `notarium db upgrade`, never by racing servers.
        _print_init(initialise(settings, migrate_schema=settings.is_sqlite))
    except NotariumError as error:
        _fail(error)
    uvicorn.run(
        "notarium.http.asgi:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers or settings.http_workers,
        log_level="info",
        access_log=False,
        # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 and rewrite the
        # peer address; notarium reads the header itself, from trusted proxies only.
        proxy_headers=False,
    )


@cli.command()
@click.option("--once", is_flag=True, help="Do one round of every job and exit.")
def worker(once: bool) -> None:
    """Run batching, anchoring and log integration (scaled mode; any number at once)."""
    import logging
    import signal

    from notarium.app.runtime import build_runtime
    from notarium.app.workers.jobs import worker_loop

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runtime = build_runtime(_settings())
    loop = worker_loop(runtime)
    try:
        if once:
            click.echo(f"handled {loop.run_once()} item(s)")
            return
        signal.signal(signal.SIGTERM, lambda *_: loop.stop(timeout=0))
        loop.run_forever()
    finally:
        runtime.close()


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from notarium.adapters.store import migrate
    from notarium.adapters.store.db import make_engine

    engine = make_engine(_settings().database())
    try:
        migrate.upgrade(engine)
        click.echo(f"Schema at revision {migrate.current_revision(engine)}.")
    finally:
        engine.dispose()


@cli.group()
def accounts() -> None:
    """Accounts."""


@accounts.command("create")
@click.argument("name")
@click.option("--plan", type=click.Choice(list(PLANS)), default="pro", show_default=True)
@click.option("--email", help="Where notices about the account (a webhook switched off) go.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def accounts_create(name: str, plan: str, email: str | None, as_json: bool) -> None:
    """Create an account and its first live API key (shown once)."""
    try:
        account, issued = _accounts(_settings()).create_account(name, plan, email=email)
    except NotariumError as error:
        _fail(error)
        return
    if as_json:
        click.echo(json.dumps({"account_id": account.id, "api_key": issued.secret}))
    else:
        click.echo(f"account {account.id} ({account.name}, {account.plan})")
        click.echo(f"API key (shown once): {issued.secret}")


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True)
def accounts_list(as_json: bool) -> None:
    views = _accounts(_settings()).list_accounts()
    if as_json:
        click.echo(
            json.dumps([{"account_id": v.id, "name": v.name, "plan": v.plan} for v in views])
        )
        return
    for v in views:
        click.echo(f"{v.id}  {v.plan:<9} {v.name}")


@accounts.command("set-email")
@click.argument("account")
@click.argument("email")
def accounts_set_email(account: str, email: str) -> None:
    """Set (or, with "", clear) where notices about the account go."""
    try:
        view = _accounts(_settings()).set_email(account, email)
    except NotariumError as error:
        _fail(error)
        return
    click.echo(f"{view.name}: notices go to {view.email or 'nobody'}")


@accounts.command("set-plan")
@click.argument("account")
@click.argument("plan", type=click.Choice(list(PLANS)))
def accounts_set_plan(account: str, plan: str) -> None:
    try:
        view = _accounts(_settings()).set_plan(account, plan)
    except NotariumError as error:
        _fail(error)
        return
    click.echo(f"{view.name} is now on {view.plan}")


@cli.group()
def keys() -> None:
    """API keys."""


def _echo_key(issued: IssuedKey, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"key_id": issued.key.id, "api_key": issued.secret}))
    else:
        click.echo(f"key {issued.key.id} ({issued.key.mode}; {' '.join(issued.key.scopes)})")
        click.echo(f"API key (shown once): {issued.secret}")


_scope_option = click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(list(ALL_SCOPES)),
    help="Grant this scope (repeatable; default: all but admin).",
)


_prefix_option = click.option(
    "--prefix",
    help="Issue the key under another brand than ntk, as a client's document names it: "
    "proofd, prv, ip (the mode follows), or with its mode, e.g. prv_test_.",
)


@keys.command("create")
@click.option("--account", required=True)
@click.option("--test", is_flag=True, help="A test-mode key (ntk_test_).")
@_scope_option
@_prefix_option
@click.option("--json", "as_json", is_flag=True)
def keys_create(
    account: str, test: bool, scopes: tuple[str, ...], prefix: str | None, as_json: bool
) -> None:
    """Issue an additional key for an account."""
    mode: Mode | None = "test" if test else None
    try:
        issued = _accounts(_settings()).create_key(
            account, mode=mode, scopes=list(scopes), prefix=prefix
        )
    except NotariumError as error:
        _fail(error)
        return
    _echo_key(issued, as_json)


@keys.command("rotate")
@click.option("--account", required=True)
@click.option("--test", is_flag=True)
@_scope_option
@_prefix_option
@click.option("--json", "as_json", is_flag=True)
def keys_rotate(
    account: str, test: bool, scopes: tuple[str, ...], prefix: str | None, as_json: bool
) -> None:
    """Replace the account's keys of this mode; the old ones stop working at once. The
    new key keeps the prefix of the one it replaces unless --prefix is given."""
    mode: Mode | None = "test" if test else None
    try:
        issued = _accounts(_settings()).rotate_key(
            account, mode=mode, scopes=list(scopes), prefix=prefix
        )
    except NotariumError as error:
        _fail(error)
        return
    _echo_key(issued, as_json)


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    try:
        view = _accounts(_settings()).revoke_key(key_id)
    except NotariumError as error:
        _fail(error)
        return
    click.echo(f"revoked {view.id}")


@keys.command("list")
@click.option("--account", required=True)
@click.option("--json", "as_json", is_flag=True)
def keys_list(account: str, as_json: bool) -> None:
    try:
        views = _accounts(_settings()).list_keys(account)
    except NotariumError as error:
        _fail(error)
        return
    rows = [
        {
            "key_id": v.id,
            "mode": v.mode,
            "hint": v.hint,
            "scopes": list(v.scopes),
            "revoked": v.revoked_at is not None,
        }
        for v in views
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for r in rows:
        state = "revoked" if r["revoked"] else "active"
        click.echo(f"{r['key_id']}  {r['mode']:<4} {state:<7} {r['hint']}")


@cli.group()
def credentials() -> None:
    """JWT credentials (key id and secret) for HS256 Bearer tokens."""


def _accounts_with_box(settings: Settings) -> AccountService:
    from notarium.adapters.pki.keystore import KeyStore
    from notarium.adapters.pki.secretbox import SecretBox
    from notarium.adapters.store.db import make_engine, make_session_factory
    from notarium.core.clock import SystemClock
    from notarium.ledger.accounts.service import AccountService

    KeyStore(settings.keys_dir, settings.organisation).ensure()
    return AccountService(
        make_session_factory(make_engine(settings.database())),
        SystemClock(),
        box=SecretBox(settings.keys_dir),
    )


@credentials.command("create")
@click.option("--account", required=True)
@click.option("--test", is_flag=True, help="Credentials for test mode.")
@_scope_option
@click.option("--key-id", help="Keep an existing key id (moving from another service).")
@click.option("--secret", help="Keep an existing secret (at least 32 characters).")
@click.option("--json", "as_json", is_flag=True)
def credentials_create(
    account: str,
    test: bool,
    scopes: tuple[str, ...],
    key_id: str | None,
    secret: str | None,
    as_json: bool,
) -> None:
    """Issue JWT credentials; the secret is shown once."""
    mode: Mode = "test" if test else "live"
    try:
        issued = _accounts_with_box(_settings()).create_credentials(
            account, mode=mode, scopes=list(scopes), key_id=key_id, secret=secret
        )
    except NotariumError as error:
        _fail(error)
        return
    if as_json:
        click.echo(json.dumps({"key_id": issued.key_id, "secret": issued.secret}))
    else:
        click.echo(f"key id: {issued.key_id}")
        click.echo(f"secret (shown once): {issued.secret}")


@credentials.command("list")
@click.option("--account", required=True)
@click.option("--json", "as_json", is_flag=True)
def credentials_list(account: str, as_json: bool) -> None:
    try:
        views = _accounts_with_box(_settings()).list_credentials(account)
    except NotariumError as error:
        _fail(error)
        return
    rows = [
        {
            "key_id": v.key_id,
            "mode": v.mode,
            "scopes": list(v.scopes),
            "revoked": v.revoked_at is not None,
        }
        for v in views
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['key_id']}  {row['mode']:<4} {'revoked' if row['revoked'] else 'active'}")


@credentials.command("revoke")
@click.argument("key_id")
def credentials_revoke(key_id: str) -> None:
    try:
        _accounts_with_box(_settings()).revoke_credentials(key_id)
    except NotariumError as error:
        _fail(error)
        return
    click.echo(f"revoked {key_id}")


# -- client side -------------------------------------------------------------------

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


@cli.command()
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


@cli.command()
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


@cli.command()
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


@cli.group()
def dev() -> None:
    """Development helpers for the embedded mode."""


@dev.command("pay")
@click.argument("invoice")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def dev_pay(invoice: str, as_json: bool) -> None:
    """Settle INVOICE (a BOLT11 payment request) on the built-in development Lightning
    node and print its preimage in hex. Only with NOTARIUM_LIGHTNING_BACKEND=dev."""
    from notarium.adapters.lightning.invoices import decode_invoice
    from notarium.app.wiring.lightning import build_dev_node

    settings = _settings()
    if settings.lightning_backend != "dev":
        raise click.ClickException(
            f"`notarium dev pay` settles invoices of the built-in development node only, and "
            f"NOTARIUM_LIGHTNING_BACKEND is '{settings.lightning_backend}': pay this invoice "
            "with a Lightning wallet"
        )
    node = build_dev_node(settings)
    try:
        preimage = node.pay(invoice)
        decoded = decode_invoice(invoice)
    except NotariumError as error:
        _fail(error)
        return
    finally:
        node.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "preimage": preimage.hex(),
                    "payment_hash": decoded.payment_hash,
                    "amount_sats": decoded.amount_sats,
                }
            )
        )
    else:
        click.echo(preimage.hex())


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli()


if __name__ == "__main__":
    main()
