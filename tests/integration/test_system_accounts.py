"""Accounts the service keeps its own records under (L402): found by name, else created
once, with no API key and no e-mail."""

from __future__ import annotations

from notarium.app.runtime import Runtime


def test_a_system_account_is_created_once_and_found_after(runtime: Runtime) -> None:
    accounts = runtime.accounts
    first = accounts.ensure_system_account("l402")
    again = accounts.ensure_system_account("l402")
    assert again == first
    assert first.name == "l402" and first.plan == "business" and first.email is None
    assert [a.id for a in accounts.list_accounts() if a.name == "l402"] == [first.id]
    assert accounts.list_keys(first.id) == []
    other = accounts.ensure_system_account("l402:webhooks")
    assert other.id != first.id


def test_an_existing_account_of_that_name_is_the_one_used(runtime: Runtime) -> None:
    created, _key = runtime.accounts.create_account("ops", "pro")
    assert runtime.accounts.ensure_system_account("ops") == created
