"""Errors raised by the time-stamp authority.

Rejections carry the RFC 3161 ``PKIFailureInfo`` bit name so that ``respond`` can turn
the same validation that ``issue`` performs into a protocol-level rejection.
"""

from __future__ import annotations

from notarium.core.errors import ConfigurationError, TimestampingError, ValidationError


class TimestampRequestRejected(ValidationError):
    """A request the TSA will never grant as sent."""

    code = "TIMESTAMP_REQUEST_REJECTED"
    failure_info: str = "bad_request"


class UnsupportedHashAlgorithmError(TimestampRequestRejected):
    code = "UNSUPPORTED_HASH_ALGORITHM"
    failure_info = "bad_alg"


class MalformedTimestampRequestError(TimestampRequestRejected):
    code = "MALFORMED_TIMESTAMP_REQUEST"
    failure_info = "bad_data_format"


class UnacceptedPolicyError(TimestampRequestRejected):
    code = "UNACCEPTED_POLICY"
    failure_info = "unaccepted_policy"


class UnacceptedExtensionError(TimestampRequestRejected):
    code = "UNACCEPTED_EXTENSION"
    failure_info = "unaccepted_extensions"


class TokenSigningError(TimestampingError):
    """The signer failed; the request itself may well be fine."""

    code = "TSA_SIGNING_FAILED"


class TsaConfigurationError(ConfigurationError):
    """The authority was set up with material or options it cannot use."""

    code = "TSA_CONFIGURATION_ERROR"
