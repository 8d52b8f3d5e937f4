"""First-run set-up shared by ``notarium init`` and ``notarium serve``: key material,
schema, and a first account whose keys are shown exactly once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from notarium.adapters.datadir import ensure_data_dir
from notarium.adapters.store import migrate
from notarium.app.admin import AdminRuntime
from notarium.core.errors import ConfigurationError
from notarium.ledger.accounts.scopes import ADMIN
from notarium.ledger.accounts.service import IssuedKey

FIRST_ACCOUNT = "default"


@dataclass(frozen=True)
class InitResult:
    keys_created: bool
    account_id: str | None
    api_key: IssuedKey | None
    admin_key: IssuedKey | None


def schema_is_current(engine: Engine) -> bool:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config(str(engine.url)))
    return migrate.current_revision(engine) == script.get_current_head()


def initialise(admin: AdminRuntime, *, migrate_schema: bool = True) -> InitResult:
    """Keys, schema and first account through ``admin``, whose clock dates the keys."""
    ensure_data_dir(admin.settings.data_dir)
    keys_created = admin.keys.ensure()
    if migrate_schema:
        migrate.upgrade(admin.engine)
    elif not schema_is_current(admin.engine):
        raise ConfigurationError(
            "The database schema is not at the latest revision; run `notarium db upgrade`."
        )
    accounts = admin.accounts
    if accounts.list_accounts():
        return InitResult(keys_created, None, None, None)
    account, api_key = accounts.create_account(FIRST_ACCOUNT, "business")
    admin_key = accounts.create_key(account.id, scopes=[ADMIN])
    return InitResult(keys_created, account.id, api_key, admin_key)
