"""Development helpers for the embedded mode."""

from __future__ import annotations

import json

import click

from notarium.cli.context import settings


@click.group()
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

    current = settings()
    if current.lightning_backend != "dev":
        raise click.ClickException(
            f"`notarium dev pay` settles invoices of the built-in development node only, and "
            f"NOTARIUM_LIGHTNING_BACKEND is '{current.lightning_backend}': pay this invoice "
            "with a Lightning wallet"
        )
    node = build_dev_node(current)
    try:
        preimage = node.pay(invoice)
        decoded = decode_invoice(invoice)
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
