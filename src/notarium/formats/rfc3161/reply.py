"""Wrapping a stored token back into the reply an RFC 3161 client expects."""

from __future__ import annotations

from asn1crypto import cms, tsp


def granted_response(token_der: bytes) -> bytes:
    """A ``granted`` TimeStampResp around ``token_der``, so stored tokens can be served as
    ``.tsr`` files that ``openssl ts -verify -in`` reads directly."""
    response = tsp.TimeStampResp(
        {"status": {"status": "granted"}, "time_stamp_token": cms.ContentInfo.load(token_der)}
    )
    return bytes(response.dump())
