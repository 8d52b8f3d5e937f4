"""The ``WebhookSender`` contract, for the real sender (against a receiver on 127.0.0.1)
and the in-memory one: one attempt per call, the receiver's answer reported, never an
exception for what the remote end does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from fakes.loopback import LoopbackServer, Reply, Request
from notarium.adapters.egress import EgressPolicy
from notarium.notify.webhooks.delivery import DeliveryResult, HttpxWebhookSender, WebhookSender
from notarium.notify.webhooks.fakes import MemoryWebhookSender

BODY = b'{"event":"certificate.confirmed"}'
HEADERS = {"webhook-id": "msg_1", "webhook-timestamp": "1700000000"}


class Receiver(LoopbackServer):
    name = "webhook receiver"

    def answer(self, request: Request) -> Reply:
        return Reply(204)


@dataclass
class Subject:
    sender: WebhookSender
    url: str
    answer_next: Callable[[int, dict[str, str]], None]
    """The receiver's next answer: a status and its headers."""
    received: Callable[[], list[tuple[dict[str, str], bytes]]]
    """What reached the receiver, headers (lower-case names) and body."""
    go_down: Callable[[], None]
    """The receiver stops answering at all."""


def _real() -> Iterator[Subject]:
    with Receiver() as receiver, HttpxWebhookSender(EgressPolicy(["127.0.0.1"])) as sender:

        def answer_next(status: int, headers: dict[str, str]) -> None:
            receiver.reply_next(Reply(status, headers=headers))

        def received() -> list[tuple[dict[str, str], bytes]]:
            return [
                ({k.lower(): v for k, v in r.headers.items()}, r.body) for r in receiver.requests
            ]

        def go_down() -> None:
            receiver.offline = True

        yield Subject(sender, f"{receiver.url}/hook", answer_next, received, go_down)


def _fake() -> Iterator[Subject]:
    sender = MemoryWebhookSender()

    def answer_next(status: int, headers: dict[str, str]) -> None:
        retry = headers.get("Retry-After")
        sender.script(
            DeliveryResult(
                status=status,
                latency_ms=1,
                error=None,
                retry_after=float(retry) if retry is not None else None,
            )
        )

    def received() -> list[tuple[dict[str, str], bytes]]:
        return [({k.lower(): v for k, v in s.headers.items()}, s.body) for s in sender.sent]

    def go_down() -> None:
        sender.script(
            DeliveryResult(status=None, latency_ms=1, error="connection: refused", retry_after=None)
        )

    yield Subject(sender, "https://receiver.example/hook", answer_next, received, go_down)


@pytest.fixture(params=[_real, _fake], ids=["httpx", "memory"])
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    yield from request.param()


def test_a_delivery_reaches_the_receiver_with_its_headers_and_body(subject: Subject) -> None:
    result = subject.sender.send(subject.url, HEADERS, BODY)
    assert result.status is not None and 200 <= result.status < 300
    assert result.error is None and result.outcome == "delivered"
    ((headers, body),) = subject.received()
    assert body == BODY
    assert {k: headers[k] for k in HEADERS} == HEADERS


def test_the_receivers_status_and_retry_after_are_reported(subject: Subject) -> None:
    subject.answer_next(503, {"Retry-After": "120"})
    result = subject.sender.send(subject.url, HEADERS, BODY)
    assert result.status == 503 and result.error is None
    assert result.retry_after == 120
    assert result.outcome == "retry"


def test_gone_tells_the_caller_to_disable_the_endpoint(subject: Subject) -> None:
    subject.answer_next(410, {})
    result = subject.sender.send(subject.url, HEADERS, BODY)
    assert result.status == 410 and result.outcome == "disable"


def test_each_send_is_one_attempt(subject: Subject) -> None:
    subject.answer_next(500, {})
    first = subject.sender.send(subject.url, HEADERS, BODY)
    second = subject.sender.send(subject.url, HEADERS, BODY)
    assert first.status == 500
    assert second.status is not None and 200 <= second.status < 300
    assert len(subject.received()) == 2


def test_a_receiver_that_is_down_is_a_result_not_an_exception(subject: Subject) -> None:
    subject.go_down()
    result = subject.sender.send(subject.url, HEADERS, BODY)
    assert result.status is None and result.error is not None
    assert result.error.split(":")[0] in {"refused", "dns", "timeout", "connection"}
    assert result.outcome == "retry"
