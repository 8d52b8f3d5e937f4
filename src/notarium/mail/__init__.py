"""Outgoing mail: a small port, an SMTP implementation configured by one URL
(``NOTARIUM_SMTP_URL``), and an in-memory one."""

from notarium.mail.memory import MemoryMailer, SentMail
from notarium.mail.ports import Mailer, MailError
from notarium.mail.smtp import SMTP_URL_ENV, SmtpConfig, SmtpMailer

__all__ = [
    "SMTP_URL_ENV",
    "MailError",
    "Mailer",
    "MemoryMailer",
    "SentMail",
    "SmtpConfig",
    "SmtpMailer",
]
