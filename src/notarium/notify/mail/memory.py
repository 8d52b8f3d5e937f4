"""A mailer that keeps messages in memory, for tests and for running without SMTP."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from notarium.notify.mail.ports import MailError
from notarium.notify.mail.smtp import check_message


@dataclass(frozen=True)
class SentMail:
    to: str
    subject: str
    body: str


@dataclass
class MemoryMailer:
    """Collects messages in ``sent``; ``failures`` makes the next sends fail."""

    sent: list[SentMail] = field(default_factory=list)
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, to: str, subject: str, body: str) -> None:
        # The same checks as the SMTP mailer, so a test cannot pass on input that a real
        # server would never receive.
        check_message(to, subject)
        with self._lock:
            if self.failures > 0:
                self.failures -= 1
                raise MailError(f"the mail to {to} was not accepted (simulated failure)")
            self.sent.append(SentMail(to, subject, body))
