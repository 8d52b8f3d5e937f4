"""Built-in RFC 3161 time-stamp authority."""

from notarium.ledger.tsa.authority import IssuedToken, TimeStampAuthority
from notarium.ledger.tsa.ports import SerialSource, TokenSigner

__all__ = ["IssuedToken", "SerialSource", "TimeStampAuthority", "TokenSigner"]
