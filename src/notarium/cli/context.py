"""What the operator commands share, loaded only when a command runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notarium.app.admin import AdminRuntime
    from notarium.app.settings import Settings


def settings() -> Settings:
    from notarium.app.settings import Settings

    return Settings()


@contextmanager
def admin_runtime() -> Iterator[AdminRuntime]:
    from notarium.app.admin import AdminRuntime

    admin = AdminRuntime.for_settings(settings())
    try:
        yield admin
    finally:
        admin.close()
