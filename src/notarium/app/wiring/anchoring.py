"""The anchors an operator configured, built from the settings."""

from __future__ import annotations

from cryptography import x509

from notarium.app.settings import Settings
from notarium.core.errors import ConfigurationError
from notarium.ledger.anchoring.ports import Anchor


def build_anchors(settings: Settings) -> list[Anchor]:
    from notarium.ledger.anchoring.bitcoin_rpc import BitcoinAnchor, BitcoinRpc
    from notarium.ledger.anchoring.external_tsa import ExternalTsaAnchor
    from notarium.ledger.anchoring.ots_calendar import OtsCalendarAnchor

    anchors: list[Anchor] = [OtsCalendarAnchor(url) for url in settings.ots_calendars]
    if settings.bitcoin_rpc_url:
        anchors.append(
            BitcoinAnchor(
                BitcoinRpc(settings.bitcoin_rpc_url),
                prefix=settings.bitcoin_op_return_prefix.encode(),
                confirmations=settings.bitcoin_confirmations,
            )
        )
    if settings.external_tsa_urls:
        roots = external_tsa_roots(settings)
        anchors.extend(ExternalTsaAnchor(url, roots) for url in settings.external_tsa_urls)
    return anchors


def build_test_anchors(settings: Settings) -> list[Anchor]:
    """Anchors for test-mode records: the simulated one by default, or the calendars
    named in NOTARIUM_TEST_OTS_CALENDARS."""
    from notarium.ledger.anchoring.ots_calendar import OtsCalendarAnchor
    from notarium.ledger.anchoring.simulated import SimulatedAnchor

    if settings.test_ots_calendars:
        return [OtsCalendarAnchor(url) for url in settings.test_ots_calendars]
    return [SimulatedAnchor()] if settings.test_simulated_anchor else []


def external_tsa_roots(settings: Settings) -> list[x509.Certificate]:
    path = settings.external_tsa_trust
    if path is None:
        raise ConfigurationError(
            "NOTARIUM_EXTERNAL_TSA_URLS needs NOTARIUM_EXTERNAL_TSA_TRUST: a PEM file of the "
            "root certificates their tokens must chain to."
        )
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read external TSA trust roots {path}: {exc}") from exc
