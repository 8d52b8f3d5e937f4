"""The ``Mailer`` contract, for SMTP (against a real SMTP server on 127.0.0.1) and the
in-memory mailer: a message is handed over whole, and input no mail server may receive
is refused before anything is sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from fakes.smtp import smtp_server
from notarium.notify.mail import Mailer, MailError, MemoryMailer, SmtpMailer


@dataclass
class Subject:
    mailer: Mailer
    delivered: Callable[[], list[tuple[str, str, str]]]
    """Recipient, subject and body of each message that arrived."""


def _smtp() -> Iterator[Subject]:
    with smtp_server() as (inbox, port):

        def delivered() -> list[tuple[str, str, str]]:
            return [
                (
                    mail.rcpt_tos[0],
                    str(mail.message["Subject"]),
                    mail.message.get_content().rstrip("\n"),
                )
                for mail in inbox.received
            ]

        yield Subject(SmtpMailer(f"smtp://127.0.0.1:{port}"), delivered)


def _memory() -> Iterator[Subject]:
    mailer = MemoryMailer()
    yield Subject(mailer, lambda: [(m.to, m.subject, m.body) for m in mailer.sent])


@pytest.fixture(params=[_smtp, _memory], ids=["smtp", "memory"])
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    yield from request.param()


def test_a_message_arrives_whole(subject: Subject) -> None:
    body = "Your certificate TS-7K2M9QXD is confirmed.\nBlock 900000."
    subject.mailer.send("alice@example.org", "Certificate confirmed", body)
    assert subject.delivered() == [("alice@example.org", "Certificate confirmed", body)]


def test_messages_arrive_one_each_in_order(subject: Subject) -> None:
    for n in range(3):
        subject.mailer.send(f"user{n}@example.org", f"Message {n}", f"Body {n}")
    assert [to for to, _, _ in subject.delivered()] == [f"user{n}@example.org" for n in range(3)]


@pytest.mark.parametrize(
    ("to", "title"),
    [
        ("alice@example.org", "Two\r\nBcc: mallory@example.org"),
        ("not an address", "Hello"),
        ("alice@example.org, bob@example.org", "Hello"),
    ],
)
def test_header_injection_and_bad_recipients_are_refused_before_sending(
    subject: Subject, to: str, title: str
) -> None:
    with pytest.raises(MailError):
        subject.mailer.send(to, title, "body")
    assert subject.delivered() == []
