"""First-run set-up shared by ``notarium init`` and ``notarium serve``: key material,
schema, and a first account whose keys are shown exactly once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from notarium.adapters.datadir import ensure_data_dir
from notarium.adapters.pki.keystore import KeyStore
from notarium.adapters.store import migrate
from notarium.adapters.store.db import make_engine, make_session_factory
from notarium.app.settings import Settings
from notarium.core.clock import SystemClock
from notarium.core.errors import ConfigurationError
from notarium.ledger.accounts.scopes import ADMIN
from notarium.ledger.accounts.service import AccountService, IssuedKey

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


def initialise(settings: Settings, *, migrate_schema: bool = True) -> InitResult:
    ensure_data_dir(settings.data_dir)
    keys_created = KeyStore(settings.keys_dir, settings.organisation).ensure()
    engine = make_engine(settings.database())
    try:
        if migrate_schema:
            migrate.upgrade(engine)
        elif not schema_is_current(engine):
            raise ConfigurationError(
                "The database schema is not at the latest revision; run `notarium db upgrade`."
            )
        accounts = AccountService(make_session_factory(engine), SystemClock())
        if accounts.list_accounts():
            return InitResult(keys_created, None, None, None)
        account, api_key = accounts.create_account(FIRST_ACCOUNT, "business")
        admin_key = accounts.create_key(account.id, scopes=[ADMIN])
        return InitResult(keys_created, account.id, api_key, admin_key)
    finally:
        engine.dispose()
