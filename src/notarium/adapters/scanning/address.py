"""Where clamd listens: ``unix:///run/clamav/clamd.ctl`` or ``tcp://127.0.0.1:3310``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from notarium.core.errors import ConfigurationError

DEFAULT_TCP_PORT = 3310


@dataclass(frozen=True)
class ClamdAddress:
    scheme: Literal["unix", "tcp"]
    path: str = ""
    """Socket path, for ``unix``."""
    host: str = ""
    port: int = DEFAULT_TCP_PORT

    def __str__(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


def parse_clamd_address(text: str) -> ClamdAddress:
    """Parses ``unix:///absolute/path``, ``tcp://host[:port]`` or a bare absolute path."""
    value = text.strip()
    if value.startswith("/"):
        return ClamdAddress("unix", path=value)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"clamd address {text!r} is not valid: {exc}") from exc
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(f"clamd address {text!r} must not carry credentials or a query")
    if parts.scheme == "unix":
        if parts.netloc or not parts.path.startswith("/"):
            raise ConfigurationError(
                f"clamd address {text!r}: a Unix socket needs an absolute path, "
                "as in unix:///run/clamav/clamd.ctl"
            )
        return ClamdAddress("unix", path=parts.path)
    if parts.scheme == "tcp":
        if not parts.hostname or parts.path not in ("", "/"):
            raise ConfigurationError(
                f"clamd address {text!r}: expected tcp://host:port, as in tcp://127.0.0.1:3310"
            )
        if port == 0:
            raise ConfigurationError(f"clamd address {text!r}: port 0 is not a port")
        return ClamdAddress(
            "tcp", host=parts.hostname, port=DEFAULT_TCP_PORT if port is None else port
        )
    raise ConfigurationError(
        f"clamd address {text!r}: use unix:///path/to/clamd.ctl or tcp://host:port"
    )
