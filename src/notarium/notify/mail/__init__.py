"""Outgoing mail: a small port, an SMTP implementation configured by one URL
(``NOTARIUM_SMTP_URL``), and an in-memory one."""

from notarium.notify.mail.memory import MemoryMailer, SentMail
from notarium.notify.mail.ports import Mailer, MailError
from notarium.notify.mail.smtp import SMTP_URL_ENV, SmtpConfig, SmtpMailer

__all__ = [
    "SMTP_URL_ENV",
    "MailError",
    "Mailer",
    "MemoryMailer",
    "SentMail",
    "SmtpConfig",
    "SmtpMailer",
]
