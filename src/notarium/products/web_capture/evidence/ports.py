"""What the evidence packager needs from outside: a time-stamper."""

from __future__ import annotations

from notarium.ledger.tsa.stamper import TimeStamper

# The name the WACZ signer knows it by.
Timestamper = TimeStamper
