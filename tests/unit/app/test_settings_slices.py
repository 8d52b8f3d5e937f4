"""Each domain receives its own slice of the settings, never the whole catalogue."""

from __future__ import annotations

from pathlib import Path

from notarium.adapters.store.db import DatabaseOptions
from notarium.app.settings import Settings
from notarium.ledger.anchoring.policy import AnchorPolicy
from notarium.ledger.tsa.stamper import TsaOptions
from notarium.notify.webhooks.service import WebhookPolicy


def test_database_slice_defaults_to_the_embedded_file(tmp_path: Path) -> None:
    options = Settings(data_dir=tmp_path, sqlite_synchronous="NORMAL").database()
    assert options == DatabaseOptions(
        url=f"sqlite:///{(tmp_path / 'notarium.db').resolve()}",
        data_dir=tmp_path,
        sqlite_synchronous="NORMAL",
    )
    assert options.is_sqlite


def test_database_slice_names_a_server_database(tmp_path: Path) -> None:
    options = Settings(data_dir=tmp_path, database_url="postgresql://db/x").database()
    assert options.url == "postgresql://db/x" and not options.is_sqlite


def test_anchoring_slice() -> None:
    policy = Settings(
        batch_interval=7,
        ots_upgrade_interval=9,
        anchor_retry_limit=3,
        ots_min_calendars=1,
        max_batch_size=50,
        external_tsa_mode="record",
    ).anchoring()
    assert isinstance(policy, AnchorPolicy)
    assert (policy.batch_interval, policy.upgrade_interval, policy.retry_limit) == (7, 9, 3)
    assert (policy.min_calendars, policy.max_batch_size) == (1, 50)
    assert policy.per_record_kinds == frozenset({"rfc3161"})
    assert Settings().anchoring().per_record_kinds == frozenset()


def test_webhooks_slice() -> None:
    policy = Settings(
        webhook_timeout=3, webhook_disable_after=4, webhook_https_only=False
    ).webhooks()
    assert policy == WebhookPolicy(timeout=3, disable_after=4, https_only_live=False)


def test_tsa_slice() -> None:
    assert Settings(tsa_policy_oid="1.2.3", tsa_accuracy_ms=0).tsa() == TsaOptions(
        policy_oid="1.2.3", accuracy_ms=0
    )


def test_l402_slice_takes_its_location_from_the_base_url() -> None:
    config = Settings(
        base_url="https://notary.example:8443/", l402_service_name="svc", l402_account="pay"
    ).l402()
    assert (config.service, config.location, config.account_name) == (
        "svc",
        "notary.example:8443",
        "pay",
    )
    assert Settings(base_url="unix:", l402_service_name="svc").l402().location == "svc"
