"""One way out for domain errors: every command, however deep, prints ``CODE: message``
and exits 1, while the commands' own deliberate failures keep their exit paths."""

from __future__ import annotations

import click
from click.testing import CliRunner

from notarium.cli.main import NotariumGroup, cli
from notarium.core.errors import NotFoundError


def _tree() -> click.Group:
    @click.group(cls=NotariumGroup)
    def root() -> None:
        pass

    @root.group()
    def inner() -> None:
        pass

    @inner.command()
    def missing() -> None:
        raise NotFoundError("no such thing", code="THING_NOT_FOUND")

    @inner.command()
    def fine() -> None:
        click.echo("done")

    return root


def test_a_domain_error_in_a_nested_command_is_one_line_and_exit_1() -> None:
    result = CliRunner().invoke(_tree(), ["inner", "missing"])
    assert result.exit_code == 1
    assert result.output == "Error: THING_NOT_FOUND: no such thing\n"


def test_commands_without_errors_are_untouched() -> None:
    result = CliRunner().invoke(_tree(), ["inner", "fine"])
    assert (result.exit_code, result.output) == (0, "done\n")


def test_the_notarium_command_uses_the_one_error_path() -> None:
    assert isinstance(cli, NotariumGroup)
    assert {"init", "serve", "worker", "db", "accounts", "keys", "credentials"} <= set(cli.commands)
    assert {"stamp", "proof", "verify", "dev"} <= set(cli.commands)
