"""A capture engine that answers from a script, and a runtime whose web captures use it
behind a resolver that knows only the names a test gives it: route tests need neither a
browser nor DNS."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from datetime import timedelta

from notarium.adapters.egress.policy import EgressPolicy, IPAddress, Resolver
from notarium.app.runtime import Runtime
from notarium.formats.evidence.capture_result import CaptureResult
from notarium.products.web_capture.coverage import CoverageChecker
from notarium.products.web_capture.service import WebCaptureService


class ScriptedEngine:
    """Answers each capture with the next scripted outcome, or ``default(url)``."""

    def __init__(self, default: object = None) -> None:
        self.outcomes: list[CaptureResult | Exception] = []
        self.urls: list[str] = []
        self.default = default

    async def capture(self, url: str) -> CaptureResult:
        self.urls.append(url)
        if self.outcomes:
            outcome = self.outcomes.pop(0)
        elif callable(self.default):
            outcome = self.default(url)
        else:
            raise AssertionError(f"no capture scripted for {url}")
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, CaptureResult)
        return outcome

    async def close(self) -> None:
        return None


def table_resolver(names: Mapping[str, str], *, otherwise: str | None = None) -> Resolver:
    """A resolver for the given names; any other name resolves to ``otherwise``, or not
    at all."""

    def resolve(host: str, port: int) -> list[IPAddress]:
        address = names.get(host, otherwise)
        if address is None:
            raise OSError(f"{host}: name not known (offline test resolver)")
        return [ipaddress.ip_address(address)]

    return resolve


def with_scripted_captures(
    runtime: Runtime,
    engine: ScriptedEngine,
    *,
    allowlist: tuple[str, ...] = ("127.0.0.1",),
    names: Mapping[str, str] | None = None,
    otherwise: str | None = None,
) -> Runtime:
    real = runtime.webcaptures
    policy = EgressPolicy(
        list(allowlist), resolver=table_resolver(names or {}, otherwise=otherwise)
    )
    service = WebCaptureService(
        real.sessions,
        real.read_sessions,
        real.records,
        lambda: engine,
        real.packager,
        policy,
        runtime.clock,
        coverage=CoverageChecker(policy, runtime.clock),
        base_url=real.base_url,
        assist_lifetime=timedelta(minutes=10),
    )
    return dataclasses.replace(runtime, webcaptures=service)
