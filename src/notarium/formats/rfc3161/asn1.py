"""ASN.1 schema corrections on top of asn1crypto's RFC 3161 module."""

from __future__ import annotations

from asn1crypto import cms, core, tsp


class TimeStampResp(core.Sequence):  # type: ignore[misc]
    """RFC 3161 §2.4.2 TimeStampResp.

    asn1crypto's ``tsp.TimeStampResp`` omits OPTIONAL on ``timeStampToken`` and so can
    neither encode nor fully parse a rejection, which carries only a status.
    """

    _fields = [  # noqa: RUF012 - asn1crypto's schema declaration convention
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]
