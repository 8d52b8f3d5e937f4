"""Delivery attempts against receivers on 127.0.0.1, and the retry rules around them."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from fakes.loopback import LoopbackServer, Reply, Request
from notarium.adapters.egress import EgressPolicy, guarded_client
from notarium.core.errors import ValidationError
from notarium.notify.webhooks import WebhookVerificationError, new_secret, sign, verify
from notarium.notify.webhooks.delivery import (
    MAX_RETRY_AFTER,
    RETRY_SCHEDULE,
    DeliveryResult,
    HttpxWebhookSender,
    WebhookSender,
    classify,
    deliver,
    next_attempt_delay,
    parse_retry_after,
)
from notarium.notify.webhooks.fakes import MemoryWebhookSender, SentWebhook

LOOPBACK = EgressPolicy(["127.0.0.1"])
BODY = b'{"event":"certificate.confirmed","data":{"publicId":"abc123def456"}}'


class Receiver(LoopbackServer):
    name = "webhook receiver"

    def answer(self, request: Request) -> Reply:
        return Reply(204)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


# -- schedule -----------------------------------------------------------------------------


def test_schedule_spans_about_three_days() -> None:
    assert list(RETRY_SCHEDULE) == sorted(RETRY_SCHEDULE)
    assert RETRY_SCHEDULE[0] == 5
    assert 2.5 * 86400 < sum(RETRY_SCHEDULE) < 3.5 * 86400


def test_every_delay_is_the_scheduled_one_within_ten_percent() -> None:
    rng = random.Random(7)
    for attempt, scheduled in enumerate(RETRY_SCHEDULE, start=1):
        for _ in range(50):
            delay = next_attempt_delay(attempt, rng=rng)
            assert delay is not None
            assert scheduled * 0.9 <= delay <= scheduled * 1.1


def test_jitter_spreads_and_is_reproducible_with_a_seeded_rng() -> None:
    delays = {next_attempt_delay(3, rng=random.Random(seed)) for seed in range(20)}
    assert len(delays) == 20
    assert next_attempt_delay(3, rng=random.Random(1)) == next_attempt_delay(
        3, rng=random.Random(1)
    )
    assert next_attempt_delay(3) is not None


def test_retries_end_with_the_schedule() -> None:
    assert next_attempt_delay(len(RETRY_SCHEDULE)) is not None
    assert next_attempt_delay(len(RETRY_SCHEDULE) + 1) is None
    assert next_attempt_delay(100, retry_after=10) is None


@pytest.mark.parametrize("attempt", [0, -1, True])
def test_attempts_count_from_one(attempt: int) -> None:
    with pytest.raises(ValidationError):
        next_attempt_delay(attempt)


def test_a_longer_retry_after_wins_up_to_the_cap() -> None:
    rng = random.Random(3)
    assert next_attempt_delay(1, rng=rng, retry_after=120) == 120
    # A shorter one does not hurry the schedule.
    shorter = next_attempt_delay(4, rng=random.Random(3), retry_after=10)
    assert shorter == next_attempt_delay(4, rng=random.Random(3))
    assert next_attempt_delay(1, retry_after=10 * 86400) == MAX_RETRY_AFTER


# -- classification -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "outcome"),
    [
        (200, None, "delivered"),
        (202, None, "delivered"),
        (204, None, "delivered"),
        (299, None, "delivered"),
        (410, None, "disable"),
        (500, None, "retry"),
        (502, None, "retry"),
        (503, None, "retry"),
        (429, None, "retry"),
        (408, None, "retry"),
        (400, None, "retry"),
        (401, None, "retry"),
        (404, None, "retry"),
        (301, None, "retry"),
        (None, "timeout: no answer within 15 s (ReadTimeout)", "retry"),
        (None, "connection: ConnectError: refused", "retry"),
        (None, None, "retry"),
    ],
)
def test_classify(status: int | None, error: str | None, outcome: str) -> None:
    assert classify(status, error) == outcome
    assert DeliveryResult(status, 1, error, None).outcome == outcome


# -- Retry-After --------------------------------------------------------------------------


def test_retry_after_in_seconds_and_as_a_date() -> None:
    now = 1_776_585_600.0  # Sun, 19 Apr 2026 08:00:00 GMT
    assert parse_retry_after("120") == 120
    assert parse_retry_after(" 0 ") == 0
    assert parse_retry_after("Sun, 19 Apr 2026 08:02:00 GMT", now=now) == 120
    assert parse_retry_after("Sun, 19 Apr 2026 07:00:00 GMT", now=now) == 0
    for unreadable in (None, "", "soon", "-5", "1.5", "Sun, 19 Apr 2026 08:02:00", "٣"):
        assert parse_retry_after(unreadable, now=now) is None


# -- one delivery -------------------------------------------------------------------------


def test_delivered_with_our_headers_and_the_exact_body(receiver: Receiver) -> None:
    signed = sign(new_secret(), msg_id="msg_1", timestamp=1_700_000_000, body=BODY)
    result = deliver(LOOPBACK, f"{receiver.url}/hooks", signed, BODY, timeout=5)
    assert (result.status, result.error, result.outcome) == (204, None, "delivered")
    assert result.latency_ms >= 0
    (request,) = receiver.requests
    assert (request.method, request.path, request.body) == ("POST", "/hooks", BODY)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "notarium-webhooks"
    for name, value in signed.items():
        assert request.headers[name.lower()] == value


def test_a_receiver_verifying_with_notarium_accepts_the_delivery() -> None:
    secret = new_secret()

    class Verifying(LoopbackServer):
        def answer(self, request: Request) -> Reply:
            try:
                verify(secret=secret, headers=request.headers, body=request.body)
            except WebhookVerificationError as exc:
                return Reply(401, exc.message.encode())
            return Reply(200)

    with Verifying() as server:
        headers = sign(secret, msg_id="msg_2", timestamp=int(time.time()), body=BODY)
        assert deliver(LOOPBACK, server.url, headers, BODY, timeout=5).status == 200
        stale = sign(secret, msg_id="msg_3", timestamp=int(time.time()) - 3600, body=BODY)
        assert deliver(LOOPBACK, server.url, stale, BODY, timeout=5).status == 401


@pytest.mark.parametrize(("status", "outcome"), [(500, "retry"), (410, "disable")])
def test_error_statuses(receiver: Receiver, status: int, outcome: str) -> None:
    receiver.reply_next(Reply(status, b"nope"))
    result = deliver(LOOPBACK, receiver.url, {}, BODY, timeout=5)
    assert (result.status, result.error, result.outcome) == (status, None, outcome)


def test_too_many_requests_with_retry_after(receiver: Receiver) -> None:
    receiver.reply_next(Reply(429, headers={"Retry-After": "120"}))
    result = deliver(LOOPBACK, receiver.url, {}, BODY, timeout=5)
    assert (result.status, result.retry_after, result.outcome) == (429, 120, "retry")
    delay = next_attempt_delay(1, retry_after=result.retry_after)
    assert delay == 120


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.reply_next(Reply(308, headers={"Location": "/elsewhere"}))
    result = deliver(LOOPBACK, receiver.url, {}, BODY, timeout=5)
    assert (result.status, result.outcome) == (308, "retry")
    assert [request.path for request in receiver.requests] == ["/"]


def test_slow_receiver_times_out(receiver: Receiver) -> None:
    receiver.delay = 3
    result = deliver(LOOPBACK, receiver.url, {}, BODY, timeout=0.3)
    assert result.status is None
    assert result.error is not None and result.error.startswith("timeout: no answer within 0.3 s")
    assert 250 <= result.latency_ms < 2500
    assert result.outcome == "retry"


@contextmanager
def hanging_up_server() -> Iterator[str]:
    """Accepts one connection, reads the request and resets the connection unanswered."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(10)
            connection.recv(65536)
            # Linger zero: close() sends RST rather than FIN.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        thread.join(timeout=15)
        listener.close()


def test_connection_reset_without_an_answer() -> None:
    with hanging_up_server() as url:
        result = deliver(LOOPBACK, url, {}, BODY, timeout=5)
    assert result.status is None
    assert result.error is not None and result.error.startswith("connection: ")
    assert result.outcome == "retry"


def test_nothing_listening() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result = deliver(LOOPBACK, f"http://127.0.0.1:{port}/", {}, BODY, timeout=5)
    assert result.status is None
    assert result.error is not None and result.error.startswith("connection: ConnectError")


def test_refused_destination_is_a_result_not_an_exception(receiver: Receiver) -> None:
    result = deliver(LOOPBACK, f"http://127.0.0.2:{receiver.port}/", {}, BODY, timeout=5)
    assert result.status is None
    assert result.error is not None and result.error.startswith("refused: ")
    assert "127.0.0.2" in result.error
    assert receiver.requests == []


@pytest.mark.parametrize("url", ["http://[::1", "ftp://127.0.0.1/", "hooks.example/in"])
def test_unusable_urls_are_results_not_exceptions(url: str) -> None:
    result = deliver(LOOPBACK, url, {}, BODY, timeout=5)
    assert result.status is None
    assert result.error is not None and result.error.startswith("refused: ")


def test_deliver_reuses_a_guarded_client(receiver: Receiver) -> None:
    with guarded_client(LOOPBACK, timeout=5, follow_redirects=False) as client:
        for _ in range(3):
            assert deliver(client, receiver.url, {}, BODY, timeout=5).status == 204
        assert not client.is_closed
    assert len(receiver.requests) == 3


# -- senders ------------------------------------------------------------------------------


def test_httpx_sender(receiver: Receiver) -> None:
    with HttpxWebhookSender(LOOPBACK, timeout=5) as sender:
        as_protocol: WebhookSender = sender
        receiver.reply_next(Reply(503))
        assert as_protocol.send(receiver.url, {"webhook-id": "msg_9"}, BODY).status == 503
        assert as_protocol.send(receiver.url, {"webhook-id": "msg_9"}, BODY).status == 204
    assert [r.headers["webhook-id"] for r in receiver.requests] == ["msg_9", "msg_9"]


def test_httpx_sender_https_only(receiver: Receiver) -> None:
    with HttpxWebhookSender(LOOPBACK, timeout=5, https_only=True) as sender:
        result = sender.send(receiver.url, {}, BODY)
    assert result.error is not None and "not https" in result.error
    assert receiver.requests == []


def test_memory_sender_records_and_answers_as_scripted() -> None:
    sender = MemoryWebhookSender()
    as_protocol: WebhookSender = sender
    gone = DeliveryResult(410, 3, None, None)
    busy = DeliveryResult(429, 2, None, 60.0)
    sender.script(gone, url="https://b.example/")
    sender.script(busy)
    assert as_protocol.send("https://a.example/", {"h": "1"}, b"{}") == busy
    assert as_protocol.send("https://a.example/", {}, b"{}").status == 200
    assert as_protocol.send("https://b.example/", {}, b"[]") == gone
    assert sender.sent[0] == SentWebhook("https://a.example/", {"h": "1"}, b"{}")
    assert [sent.url for sent in sender.sent] == [
        "https://a.example/",
        "https://a.example/",
        "https://b.example/",
    ]
