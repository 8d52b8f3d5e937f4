"""Pricing: the document's example price and breakdown, file mode, updates, and the fee
rate from the Bitcoin node."""

from __future__ import annotations

from typing import Any

import pytest

from notarium.ledger.anchoring.ports import AnchorUnavailable
from notarium.products.l402.bitcoin import NodeChainTip, NodeFeeRate
from notarium.products.l402.pricing import FixedFeeRate, PriceList, Pricer, network_fee

PRICES = PriceList(organisation="CertVera")


def test_the_documents_example() -> None:
    quote = Pricer(PRICES, FixedFeeRate(15)).timestamp(file=False)
    assert quote.amount_sats == 25_000
    assert quote.description == (
        "CertVera timestamp (20000 sats service + 5000 sats network fee @ 15 sat/vB)"
    )
    assert (quote.service_sats, quote.network_sats, quote.fee_rate) == (20_000, 5_000, 15)


def test_file_mode_costs_the_file_fee_more() -> None:
    pricer = Pricer(PRICES, FixedFeeRate(15))
    quote = pricer.timestamp(file=True)
    assert quote.amount_sats == 30_000 == pricer.timestamp(file=False).amount_sats + 5_000
    assert "5000 sats file handling" in quote.description
    assert quote.description.startswith("CertVera file timestamp (20000 sats service + ")


def test_updates_cost_ten_sats() -> None:
    quote = Pricer(PRICES, FixedFeeRate(15)).update()
    assert quote.amount_sats == 10 and quote.description == "CertVera notification update (10 sats)"


@pytest.mark.parametrize(
    ("rate", "fee"), [(15, 5_000), (1, 400), (20, 6_700), (30, 10_000), (12.5, 4_200)]
)
def test_network_fee_rounds_up_to_hundreds(rate: float, fee: int) -> None:
    assert network_fee(rate, 333) == fee


def test_fractional_rates_are_shown_to_one_decimal_and_never_below_one() -> None:
    assert "@ 12.5 sat/vB" in Pricer(PRICES, FixedFeeRate(12.49)).timestamp(file=False).description
    assert Pricer(PRICES, FixedFeeRate(0.2)).timestamp(file=False).fee_rate == 1.0


class FakeRpc:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def call(self, method: str, *params: Any) -> Any:
        self.calls.append((method, params))
        answer = self.answers[method]
        if isinstance(answer, Exception):
            raise answer
        return answer


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_node_fee_rate_is_converted_cached_and_falls_back() -> None:
    rpc = FakeRpc({"estimatesmartfee": {"feerate": 0.00021, "blocks": 6}})
    ticker = Ticker()
    rate = NodeFeeRate(rpc, conf_target=6, fallback=15.0, ttl=60, monotonic=ticker)
    assert rate.sat_per_vbyte() == pytest.approx(21.0)
    assert rate.sat_per_vbyte() == pytest.approx(21.0)
    assert rpc.calls == [("estimatesmartfee", (6,))]
    ticker.now = 61
    rpc.answers["estimatesmartfee"] = {"errors": ["Insufficient data or no feerate found"]}
    assert rate.sat_per_vbyte() == 15.0
    ticker.now = 200
    rpc.answers["estimatesmartfee"] = AnchorUnavailable("bitcoind is down")
    assert rate.sat_per_vbyte() == 15.0
    assert Pricer(PRICES, rate).timestamp(file=False).amount_sats == 25_000


def test_chain_tip() -> None:
    rpc = FakeRpc({"getblockcount": 939_159})
    assert NodeChainTip(rpc).height() == 939_159
    assert NodeChainTip(FakeRpc({"getblockcount": AnchorUnavailable("down")})).height() is None
