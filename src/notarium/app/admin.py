"""The part of the runtime the operator commands need: the database, the accounts and
the key store, each built on first use so a command pays only for what it touches."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine

from notarium.adapters.pki.keystore import KeyStore
from notarium.adapters.pki.secretbox import SecretBox
from notarium.adapters.store.db import SessionFactory, make_engine, make_session_factory
from notarium.app.settings import Settings
from notarium.core.clock import Clock, SystemClock
from notarium.ledger.accounts.service import AccountService


class AdminRuntime:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    @classmethod
    def for_settings(cls, settings: Settings, *, clock: Clock | None = None) -> AdminRuntime:
        return cls(settings, clock or SystemClock())

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database())

    @cached_property
    def sessions(self) -> SessionFactory:
        return make_session_factory(self.engine)

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(self.settings.keys_dir, self.settings.organisation, clock=self.clock)

    @cached_property
    def accounts(self) -> AccountService:
        # The box is opened only by JWT credentials; their commands ensure the keys first.
        return AccountService(self.sessions, self.clock, box=SecretBox(self.settings.keys_dir))

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
