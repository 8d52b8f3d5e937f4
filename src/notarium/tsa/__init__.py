"""Built-in RFC 3161 time-stamp authority."""

from notarium.tsa.authority import IssuedToken, TimeStampAuthority
from notarium.tsa.ports import SerialSource, TokenSigner

__all__ = ["IssuedToken", "SerialSource", "TimeStampAuthority", "TokenSigner"]
