"""Mail through an SMTP server, configured by one URL:

``smtp://[user:password@]host[:port][?from=address][&starttls=1]`` (plain, or upgraded
with STARTTLS; port 25, or 587 with STARTTLS) or ``smtps://…`` (TLS from the first byte;
port 465). User and password are percent-encoded like any URL userinfo. ``from``
defaults to the user name when that is an address, else ``notarium@localhost``.
"""

from __future__ import annotations

import email.policy
import email.utils
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qsl, unquote, urlsplit

from notarium.core.errors import ConfigurationError
from notarium.notify.mail.ports import MailError

SMTP_URL_ENV = "NOTARIUM_SMTP_URL"
DEFAULT_SENDER = "notarium@localhost"
DEFAULT_TIMEOUT = 30.0

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    sender: str
    """The From header, possibly with a display name."""
    sender_address: str
    """The bare address, used as the envelope sender."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url.strip())
        shown = _redacted(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ConfigurationError(f"{SMTP_URL_ENV} must start with smtp:// or smtps://: {shown}")
        if parts.path not in ("", "/") or parts.fragment:
            raise ConfigurationError(f"{SMTP_URL_ENV} takes no path or fragment: {shown}")
        host = parts.hostname
        if not host:
            raise ConfigurationError(f"{SMTP_URL_ENV} names no host: {shown}")
        try:
            explicit_port = parts.port
        except ValueError as exc:
            raise ConfigurationError(f"{SMTP_URL_ENV} has an invalid port: {shown}") from exc

        options: dict[str, str] = {}
        try:
            pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        except ValueError as exc:
            raise ConfigurationError(f"{SMTP_URL_ENV} has a malformed query: {shown}") from exc
        for key, value in pairs:
            if key not in ("from", "starttls") or key in options:
                raise ConfigurationError(
                    f"{SMTP_URL_ENV} accepts the options from and starttls once each, "
                    f"not {key!r}: {shown}"
                )
            options[key] = value

        implicit_tls = parts.scheme == "smtps"
        starttls_option = options.get("starttls", "0").lower()
        if starttls_option not in _TRUE | _FALSE:
            raise ConfigurationError(
                f"{SMTP_URL_ENV}: starttls must be 1 or 0, not {starttls_option!r}"
            )
        starttls = starttls_option in _TRUE
        if implicit_tls and starttls:
            raise ConfigurationError(
                f"{SMTP_URL_ENV}: smtps:// is already TLS; starttls applies to smtp:// only"
            )
        port = explicit_port or (465 if implicit_tls else 587 if starttls else 25)

        username = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        if password is not None and not username:
            raise ConfigurationError(f"{SMTP_URL_ENV} has a password but no user: {shown}")
        default_sender = username if username and "@" in username else DEFAULT_SENDER
        sender = options.get("from") or default_sender
        try:
            sender_address = check_address(sender)
        except MailError as exc:
            raise ConfigurationError(f"{SMTP_URL_ENV}: from is {exc.message}") from exc
        return cls(
            host=host,
            port=port,
            implicit_tls=implicit_tls,
            starttls=starttls,
            sender=sender,
            sender_address=sender_address,
            username=username or None,
            password=password,
        )


def check_address(value: str) -> str:
    """The bare address of a single mailbox (``a@b`` or ``Name <a@b>``)."""
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        raise MailError(f"not a single mail address: {value!r}")
    found = email.utils.getaddresses([value])
    if len(found) != 1:
        raise MailError(f"not a single mail address: {value!r}")
    address = found[0][1]
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(char.isspace() for char in address):
        raise MailError(f"not a single mail address: {value!r}")
    if not address.isascii():
        # Such addresses need SMTPUTF8, which relays cannot be relied on to offer.
        raise MailError(f"internationalised mail addresses are not supported: {value!r}")
    return address


def check_message(to: str, subject: str) -> str:
    """The recipient's bare address, once ``to`` and ``subject`` are fit for headers."""
    address = check_address(to)
    if not isinstance(subject, str) or "\r" in subject or "\n" in subject:
        raise MailError("a mail subject must be a single line")
    return address


class SmtpMailer:
    """Sends each message over its own SMTP session: mail is rare here, and a session
    per message leaves nothing to go stale between messages."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = SmtpConfig.from_url(url)
        self._timeout = timeout
        self._ssl_context = ssl_context

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> SmtpMailer | None:
        """The mailer of ``NOTARIUM_SMTP_URL``, or ``None`` when it is unset or empty."""
        url = (os.environ if environ is None else environ).get(SMTP_URL_ENV, "").strip()
        if not url:
            return None
        return cls(url, timeout=timeout, ssl_context=ssl_context)

    def __repr__(self) -> str:
        return f"SmtpMailer({self.config!r})"

    def send(self, to: str, subject: str, body: str) -> None:
        recipient = check_message(to, subject)
        config = self.config
        message = EmailMessage()
        message["From"] = config.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = email.utils.formatdate(usegmt=True)
        message["Message-ID"] = email.utils.make_msgid(
            domain=config.sender_address.rpartition("@")[2]
        )
        message.set_content(body)

        where = f"{config.host}:{config.port}"
        context = self._ssl_context or ssl.create_default_context()
        try:
            session: smtplib.SMTP
            if config.implicit_tls:
                session = smtplib.SMTP_SSL(
                    config.host, config.port, timeout=self._timeout, context=context
                )
            else:
                session = smtplib.SMTP(config.host, config.port, timeout=self._timeout)
            with session:
                session.ehlo()
                if config.starttls:
                    session.starttls(context=context)
                    session.ehlo()
                if config.username is not None:
                    session.login(config.username, config.password or "")
                # Serialised here rather than by send_message(), whose generator
                # prefixes body lines starting with "From " with ">", an mbox habit.
                session.sendmail(
                    config.sender_address, [recipient], message.as_bytes(policy=email.policy.SMTP)
                )
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(
                f"the mail server at {where} refused the recipient {recipient}: "
                f"{_reply(exc.recipients.get(recipient))}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                f"the mail server at {where} answered {exc.smtp_code} "
                f"{_text(exc.smtp_error)} ({type(exc).__name__})"
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(
                f"sending mail through {where} failed: {type(exc).__name__}: {exc}"
            ) from exc


def _reply(reply: tuple[int, bytes] | None) -> str:
    return "no reason given" if reply is None else f"{reply[0]} {_text(reply[1])}"


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def _redacted(url: str) -> str:
    # Configuration errors are logged; the SMTP password must not be.
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url.strip()
    host_and_port = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host_and_port}").geturl()
