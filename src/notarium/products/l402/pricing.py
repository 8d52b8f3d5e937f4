"""What an L402 operation costs: a service fee, plus for timestamps a network fee from a
fee rate (sat/vB) times the share of an anchoring transaction one request is charged
for, rounded up to whole hundreds of sats; file mode adds a file-handling fee."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


class FeeRateSource(Protocol):
    def sat_per_vbyte(self) -> float: ...


@dataclass(frozen=True)
class FixedFeeRate:
    rate: float

    def sat_per_vbyte(self) -> float:
        return self.rate


@dataclass(frozen=True)
class PriceList:
    organisation: str
    service_sats: int = 20_000
    file_sats: int = 5_000
    update_sats: int = 10
    vbytes: int = 333
    """The anchoring transaction's vsize charged to each timestamp."""


@dataclass(frozen=True)
class Quote:
    amount_sats: int
    description: str
    service_sats: int
    file_sats: int = 0
    network_sats: int = 0
    fee_rate: float | None = None


def network_fee(rate: float, vbytes: int) -> int:
    return math.ceil(rate * vbytes / 100) * 100


def _rate_text(rate: float) -> str:
    return f"{round(rate, 1):g}"


class Pricer:
    def __init__(self, prices: PriceList, rate: FeeRateSource) -> None:
        self.prices = prices
        self.rate = rate

    def timestamp(self, *, file: bool) -> Quote:
        p = self.prices
        rate = max(1.0, round(self.rate.sat_per_vbyte(), 1))
        network = network_fee(rate, p.vbytes)
        extra = p.file_sats if file else 0
        parts = [f"{p.service_sats} sats service"]
        if file:
            parts.append(f"{extra} sats file handling")
        parts.append(f"{network} sats network fee @ {_rate_text(rate)} sat/vB")
        what = "file timestamp" if file else "timestamp"
        return Quote(
            amount_sats=p.service_sats + extra + network,
            description=f"{p.organisation} {what} ({' + '.join(parts)})",
            service_sats=p.service_sats,
            file_sats=extra,
            network_sats=network,
            fee_rate=rate,
        )

    def update(self) -> Quote:
        p = self.prices
        return Quote(
            amount_sats=p.update_sats,
            description=f"{p.organisation} notification update ({p.update_sats} sats)",
            service_sats=p.update_sats,
        )
