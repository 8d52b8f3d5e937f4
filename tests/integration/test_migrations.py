"""The Alembic migrations produce exactly the schema the models declare, on each backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from notarium.adapters.store import migrate
from notarium.adapters.store.models import Base
from notarium.app.runtime import Runtime


def test_migrated_schema_matches_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_is_idempotent(runtime: Runtime) -> None:
    before = migrate.current_revision(runtime.engine)
    migrate.upgrade(runtime.engine)
    assert migrate.current_revision(runtime.engine) == before is not None
