"""Short public certificate ids such as ``TS-7K2M9QXD``."""

from __future__ import annotations

import secrets

# Crockford's alphabet: no I, L, O or U, so ids survive being read aloud or retyped.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_LENGTH = 8

CHANNEL_PREFIXES = {
    "timestamps": "TS",
    "certificates": "HC",
    "seal": "SL",
    "capture": "WC",
    "l402": "LN",
}


def new_certificate_id(channel: str) -> str:
    prefix = CHANNEL_PREFIXES.get(channel, "NT")
    body = "".join(secrets.choice(CROCKFORD) for _ in range(ID_LENGTH))
    return f"{prefix}-{body}"
