"""Operator commands on accounts, API keys and JWT credentials."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from notarium.cli.context import admin_runtime
from notarium.ledger.accounts.plans import PLANS
from notarium.ledger.accounts.scopes import ALL_SCOPES

if TYPE_CHECKING:
    from notarium.ledger.accounts.keys import Mode
    from notarium.ledger.accounts.service import IssuedKey


@click.group()
def accounts() -> None:
    """Accounts."""


@accounts.command("create")
@click.argument("name")
@click.option("--plan", type=click.Choice(list(PLANS)), default="pro", show_default=True)
@click.option("--email", help="Where notices about the account (a webhook switched off) go.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def accounts_create(name: str, plan: str, email: str | None, as_json: bool) -> None:
    """Create an account and its first live API key (shown once)."""
    with admin_runtime() as admin:
        account, issued = admin.accounts.create_account(name, plan, email=email)
    if as_json:
        click.echo(json.dumps({"account_id": account.id, "api_key": issued.secret}))
    else:
        click.echo(f"account {account.id} ({account.name}, {account.plan})")
        click.echo(f"API key (shown once): {issued.secret}")


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True)
def accounts_list(as_json: bool) -> None:
    with admin_runtime() as admin:
        views = admin.accounts.list_accounts()
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
    with admin_runtime() as admin:
        view = admin.accounts.set_email(account, email)
    click.echo(f"{view.name}: notices go to {view.email or 'nobody'}")


@accounts.command("set-plan")
@click.argument("account")
@click.argument("plan", type=click.Choice(list(PLANS)))
def accounts_set_plan(account: str, plan: str) -> None:
    with admin_runtime() as admin:
        view = admin.accounts.set_plan(account, plan)
    click.echo(f"{view.name} is now on {view.plan}")


@click.group()
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
    with admin_runtime() as admin:
        issued = admin.accounts.create_key(account, mode=mode, scopes=list(scopes), prefix=prefix)
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
    with admin_runtime() as admin:
        issued = admin.accounts.rotate_key(account, mode=mode, scopes=list(scopes), prefix=prefix)
    _echo_key(issued, as_json)


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    with admin_runtime() as admin:
        view = admin.accounts.revoke_key(key_id)
    click.echo(f"revoked {view.id}")


@keys.command("list")
@click.option("--account", required=True)
@click.option("--json", "as_json", is_flag=True)
def keys_list(account: str, as_json: bool) -> None:
    with admin_runtime() as admin:
        views = admin.accounts.list_keys(account)
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
    _echo_rows(
        rows, as_json, lambda r, state: f"{r['key_id']}  {r['mode']:<4} {state:<7} {r['hint']}"
    )


def _echo_rows(
    rows: list[dict[str, Any]], as_json: bool, line: Callable[[dict[str, Any], str], str]
) -> None:
    """Keys and JWT credentials list alike: JSON rows, or one line each with its state."""
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(line(row, "revoked" if row["revoked"] else "active"))


@click.group()
def credentials() -> None:
    """JWT credentials (key id and secret) for HS256 Bearer tokens."""


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
    with admin_runtime() as admin:
        admin.keys.ensure()
        issued = admin.accounts.create_credentials(
            account, mode=mode, scopes=list(scopes), key_id=key_id, secret=secret
        )
    if as_json:
        click.echo(json.dumps({"key_id": issued.key_id, "secret": issued.secret}))
    else:
        click.echo(f"key id: {issued.key_id}")
        click.echo(f"secret (shown once): {issued.secret}")


@credentials.command("list")
@click.option("--account", required=True)
@click.option("--json", "as_json", is_flag=True)
def credentials_list(account: str, as_json: bool) -> None:
    with admin_runtime() as admin:
        admin.keys.ensure()
        views = admin.accounts.list_credentials(account)
    rows = [
        {
            "key_id": v.key_id,
            "mode": v.mode,
            "scopes": list(v.scopes),
            "revoked": v.revoked_at is not None,
        }
        for v in views
    ]
    _echo_rows(rows, as_json, lambda r, state: f"{r['key_id']}  {r['mode']:<4} {state}")


@credentials.command("revoke")
@click.argument("key_id")
def credentials_revoke(key_id: str) -> None:
    with admin_runtime() as admin:
        admin.keys.ensure()
        admin.accounts.revoke_credentials(key_id)
    click.echo(f"revoked {key_id}")
