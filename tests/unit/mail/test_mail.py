"""The SMTP mailer against a real SMTP server (aiosmtpd) on 127.0.0.1, its URL, and the
in-memory mailer."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from egress.tls import SelfSigned, self_signed

from notarium.core.errors import ConfigurationError, NotariumError
from notarium.notify.mail import Mailer, MailError, MemoryMailer, SentMail, SmtpConfig, SmtpMailer

USER, PASSWORD = "alice@example.org", "p@ss:word/1"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None


@dataclass
class Collector:
    """An aiosmtpd handler that keeps what it receives and refuses *@refused.test."""

    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.endswith("@refused.test"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # The wire form ends lines in CRLF; compare text as written.
        content = (envelope.original_content or b"").replace(b"\r\n", b"\n")
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), message, login)
        )
        return "250 Message accepted for delivery"


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (USER, PASSWORD)
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


class EphemeralController(Controller):  # type: ignore[misc]
    """Listens on a port the system picks, so parallel runs never collide."""

    def _create_server(self) -> Awaitable[Any]:
        async def create() -> Any:
            server = await super(EphemeralController, self)._create_server()
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


@contextmanager
def smtp_server(**parameters: Any) -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    controller = EphemeralController(collector, hostname="127.0.0.1", port=0, **parameters)
    controller.start()
    try:
        yield collector, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> SelfSigned:
    return self_signed(tmp_path_factory.mktemp("smtp-tls"), ips=["127.0.0.1"])


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


# -- sending ------------------------------------------------------------------------------


def test_plain_smtp_delivers_a_complete_message() -> None:
    with smtp_server() as (collector, port):
        mailer: Mailer = SmtpMailer(f"smtp://127.0.0.1:{port}")
        mailer.send("bob@example.net", "Zertifikat bestätigt ✓", "Ihr Nachweis ist fertig.\n— n")

    (received,) = collector.received
    assert received.mail_from == "notarium@localhost"
    assert received.rcpt_tos == ["bob@example.net"]
    message = received.message
    assert message["From"] == "notarium@localhost"
    assert message["To"] == "bob@example.net"
    assert message["Subject"] == "Zertifikat bestätigt ✓"
    assert message["Date"] and message["Message-ID"].endswith("@localhost>")
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Ihr Nachweis ist fertig.\n— n\n"
    assert received.login is None


def test_body_lines_arrive_as_written() -> None:
    # "From " at a line start must not be mbox-escaped, and a lone "." must not end DATA.
    body = "From the notary:\n.\n..\nDone.\n"
    with smtp_server() as (collector, port):
        SmtpMailer(f"smtp://127.0.0.1:{port}").send("bob@example.net", "Lines", body)
    (received,) = collector.received
    assert received.message.get_content() == body


def test_internationalised_addresses_are_refused_up_front() -> None:
    with pytest.raises(MailError, match="internationalised"):
        SmtpMailer(f"smtp://127.0.0.1:{free_port()}").send("jürgen@example.de", "Hi", "Hi")


def test_from_option_sets_header_and_envelope() -> None:
    with smtp_server() as (collector, port):
        SmtpMailer(f"smtp://127.0.0.1:{port}/?from=Notarium%20%3Cnotary@example.org%3E").send(
            "Bob <bob@example.net>", "Hello", "Hi"
        )
    (received,) = collector.received
    assert received.mail_from == "notary@example.org"
    assert received.rcpt_tos == ["bob@example.net"]
    assert received.message["From"] == "Notarium <notary@example.org>"
    assert received.message["To"] == "Bob <bob@example.net>"


def test_starttls_with_login(certificate: SelfSigned) -> None:
    url = "smtp://alice%40example.org:p%40ss%3Aword%2F1@127.0.0.1:{port}?starttls=1"
    with smtp_server(
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    ) as (collector, port):
        mailer = SmtpMailer(url.format(port=port), ssl_context=certificate.client_context())
        mailer.send("bob@example.net", "Signed in", "Over TLS.")
    (received,) = collector.received
    assert received.login == USER
    # With no from option, a user name that is an address sends the mail.
    assert received.mail_from == USER
    assert received.message["From"] == USER


def test_starttls_verifies_the_server_certificate(certificate: SelfSigned) -> None:
    with smtp_server(tls_context=certificate.server_context(), require_starttls=True) as (
        collector,
        port,
    ):
        mailer = SmtpMailer(f"smtp://127.0.0.1:{port}?starttls=1")  # system trust store only
        with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED"):
            mailer.send("bob@example.net", "Untrusted", "Never sent.")
    assert collector.received == []


def test_wrong_password_is_a_mail_error(certificate: SelfSigned) -> None:
    with smtp_server(
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    ) as (collector, port):
        mailer = SmtpMailer(
            f"smtp://alice%40example.org:wrong@127.0.0.1:{port}?starttls=1",
            ssl_context=certificate.client_context(),
        )
        with pytest.raises(MailError, match="535") as caught:
            mailer.send("bob@example.net", "Nope", "Nope")
    assert "wrong" not in caught.value.message
    assert collector.received == []


def test_implicit_tls(certificate: SelfSigned) -> None:
    with smtp_server(ssl_context=certificate.server_context()) as (collector, port):
        SmtpMailer(
            f"smtps://127.0.0.1:{port}?from=tls@example.org",
            ssl_context=certificate.client_context(),
        ).send("bob@example.net", "Wrapped", "From the first byte.")
    (received,) = collector.received
    assert received.mail_from == "tls@example.org"
    assert received.message.get_content() == "From the first byte.\n"


def test_refused_recipient_is_a_mail_error() -> None:
    with (
        smtp_server() as (collector, port),
        pytest.raises(MailError, match=r"refused the recipient nobody@refused\.test: 550"),
    ):
        SmtpMailer(f"smtp://127.0.0.1:{port}").send("nobody@refused.test", "Hi", "Hi")
    assert collector.received == []


def test_unreachable_server_is_a_mail_error() -> None:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", timeout=5)
    with pytest.raises(MailError, match=r"127\.0\.0\.1:\d+ failed: ConnectionRefusedError"):
        mailer.send("bob@example.net", "Hi", "Hi")
    assert isinstance(MailError("x"), NotariumError)


@pytest.mark.parametrize(
    ("to", "subject"),
    [
        ("bob@example.net\r\nBcc: eve@example.net", "Hi"),
        ("bob@example.net", "Hi\r\nBcc: eve@example.net"),
        ("bob@example.net, eve@example.net", "Hi"),
        ("not an address", "Hi"),
        ("", "Hi"),
    ],
)
def test_header_injection_and_bad_addresses_never_reach_the_server(to: str, subject: str) -> None:
    # Nothing listens on the port: a connection attempt would fail differently.
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(MailError, match="single"):
        mailer.send(to, subject, "body")


# -- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", ("mail.example.org", 25, False, False)),
        ("smtp://mail.example.org?starttls=1", ("mail.example.org", 587, False, True)),
        ("smtp://mail.example.org:2525?starttls=true", ("mail.example.org", 2525, False, True)),
        ("smtps://mail.example.org", ("mail.example.org", 465, True, False)),
        ("smtp://[::1]:25?starttls=0", ("::1", 25, False, False)),
    ],
)
def test_url_defaults(url: str, expected: tuple[str, int, bool, bool]) -> None:
    config = SmtpConfig.from_url(url)
    assert (config.host, config.port, config.implicit_tls, config.starttls) == expected
    assert (config.username, config.password) == (None, None)
    assert config.sender == config.sender_address == "notarium@localhost"


def test_credentials_are_percent_decoded_and_kept_out_of_repr() -> None:
    mailer = SmtpMailer("smtp://apikey:s3cr%40t%2F@smtp.example.org:587?starttls=1")
    assert (mailer.config.username, mailer.config.password) == ("apikey", "s3cr@t/")
    assert mailer.config.sender == "notarium@localhost"
    assert "s3cr" not in repr(mailer)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.org", "must start with smtp"),
        ("mail.example.org:25", "must start with smtp"),
        ("smtp://", "names no host"),
        ("smtp://mail.example.org/inbox", "no path"),
        ("smtp://mail.example.org:99999", "invalid port"),
        ("smtp://mail.example.org?tls=1", "not 'tls'"),
        ("smtp://mail.example.org?from=a@b.c&from=d@e.f", "once each"),
        ("smtp://mail.example.org?starttls=maybe", "must be 1 or 0"),
        ("smtps://mail.example.org?starttls=1", "already TLS"),
        ("smtp://:hunter2@mail.example.org", "password but no user"),
        ("smtp://mail.example.org?from=nobody", "from is not a single mail address"),
    ],
)
def test_url_errors_are_configuration_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        SmtpMailer(url)
    assert "hunter2" not in caught.value.message


def test_from_env() -> None:
    assert SmtpMailer.from_env({}) is None
    assert SmtpMailer.from_env({"NOTARIUM_SMTP_URL": "  "}) is None
    mailer = SmtpMailer.from_env({"NOTARIUM_SMTP_URL": "smtps://relay.example.org"})
    assert mailer is not None and mailer.config.port == 465


# -- in memory ----------------------------------------------------------------------------


def test_memory_mailer_records_and_fails_on_request() -> None:
    mailer = MemoryMailer()
    as_protocol: Mailer = mailer
    as_protocol.send("bob@example.net", "One", "1")
    mailer.failures = 1
    with pytest.raises(MailError, match="simulated"):
        as_protocol.send("bob@example.net", "Two", "2")
    as_protocol.send("bob@example.net", "Three", "3")
    assert mailer.sent == [
        SentMail("bob@example.net", "One", "1"),
        SentMail("bob@example.net", "Three", "3"),
    ]
    with pytest.raises(MailError, match="single"):
        as_protocol.send("bob@example.net", "Injected\nBcc: eve@example.net", "x")
