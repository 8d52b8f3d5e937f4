"""The ``notarium`` command: operate a server, and use one as a client."""

from __future__ import annotations

import os
from typing import Any

import click

from notarium.cli import admin, dev, proofs, server
from notarium.core.errors import NotariumError

# Each command imports what it uses when it runs: `notarium --help` or `verify` must not
# pay for the web framework, the database layer, pyHanko or Playwright.


class NotariumGroup(click.Group):
    """Every command's domain errors leave the same way: ``CODE: message`` and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NotariumError as error:
            raise click.ClickException(f"{error.code}: {error.message}") from error


@click.group(cls=NotariumGroup)
@click.version_option(package_name="notarium")
def cli() -> None:
    """notarium: a self-hostable digital notary."""


for command in (
    server.init,
    server.serve,
    server.worker,
    server.db,
    admin.accounts,
    admin.keys,
    admin.credentials,
    proofs.stamp,
    proofs.proof,
    proofs.verify,
    dev.dev,
):
    cli.add_command(command)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    cli()


if __name__ == "__main__":
    main()
