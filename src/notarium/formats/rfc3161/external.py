"""Checking an external RFC 3161 time-stamp authority's token over an anchored root.

Pure, so that the anchor fetching such tokens (``ledger.anchoring.external_tsa``) and the
offline verifier (``verify.anchors``) apply one check: what the anchor stores is exactly
what a verifier later accepts.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from notarium.core.errors import ProofVerificationError
from notarium.formats.chain import validate_chain
from notarium.formats.errors import ChainValidationError, MalformedProofError, TokenBindingError
from notarium.formats.rfc3161.token import (
    TimestampToken,
    check_tsa_certificate,
    parse_timestamp_token,
    verify_token_signature,
)

ROOT_SIZE: Final = 32
#: SHA-256 stamps the root itself. A 32-byte root is not a SHA-384/512 digest, so for
#: those the imprint is that hash *of* the root, which still binds it.
IMPRINT_HASHES: Final = frozenset({"sha256", "sha384", "sha512"})


def expected_imprint(root: bytes, hash_algorithm: str) -> bytes:
    if hash_algorithm == "sha256":
        return root
    return hashlib.new(hash_algorithm, root).digest()


def _check_binding(token: TimestampToken, root: bytes) -> None:
    if token.imprint_algorithm not in IMPRINT_HASHES:
        raise TokenBindingError(
            f"the time-stamp token imprint uses {token.imprint_algorithm}; "
            "expected sha256, sha384 or sha512"
        )
    expected = expected_imprint(root, token.imprint_algorithm)
    if not hmac.compare_digest(token.imprint, expected):
        raise TokenBindingError(
            f"the time-stamp token stamps {token.imprint_algorithm} imprint "
            f"{token.imprint.hex()}, not the anchored root {root.hex()}"
        )


def verify_parsed(
    token: TimestampToken,
    root: bytes,
    trust_roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
) -> datetime:
    """The checks of :func:`verify_external_token` on a token already parsed."""
    _check_binding(token, root)
    signer = verify_token_signature(token, intermediates)
    check_tsa_certificate(signer)
    validate_chain(signer, [*token.certificates, *intermediates], trust_roots, token.gen_time)
    return token.gen_time


def verify_external_token(
    token_der: bytes,
    root: bytes,
    trust_roots: Sequence[x509.Certificate],
    *,
    intermediates: Sequence[x509.Certificate] = (),
) -> datetime:
    """Check an anchor payload offline and return the genTime it proves.

    ``root`` must be what the token stamps (itself under SHA-256, its digest under
    SHA-384/512); the CMS signature, signing-certificate-v2, the TSA certificate's
    EKU and a path to ``trust_roots`` valid at genTime are all checked. Certificates
    the token does not embed may be passed as ``intermediates``. Raises a
    :class:`~notarium.core.errors.ProofVerificationError` subclass.
    """
    if len(root) != ROOT_SIZE:
        raise MalformedProofError(
            f"an anchor root is a {ROOT_SIZE}-byte digest, got {len(root)} bytes"
        )
    return verify_parsed(parse_timestamp_token(token_der), root, trust_roots, intermediates)


@dataclass(frozen=True)
class ExternalTokenCheck:
    """An external token that verified against the chain shipped with it."""

    gen_time: datetime
    signer: x509.Certificate
    path: tuple[x509.Certificate, ...]
    """Signer first, root last."""
    trusted: bool
    """Whether the path ends at one of the verifier's own roots; if not, the token is
    intact but vouched for only by a root the verifier has not chosen to trust."""


class UnusedAnchorCertificateError(ProofVerificationError):
    code = "ANCHOR_INVALID"


def _self_issued(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def check_external_anchor(
    token_der: bytes,
    subject: bytes,
    chain: Sequence[x509.Certificate],
    trust_roots: Sequence[x509.Certificate],
) -> ExternalTokenCheck:
    """Verify an external token with the certificate chain shipped beside it.

    The token must bind ``subject``, carry a valid CMS signature by a time-stamping
    certificate, and that certificate must chain, at genTime, through the token's and
    ``chain``'s certificates to a root: one of ``trust_roots`` (``trusted``), or else a
    self-issued certificate of ``chain`` itself. Every shipped certificate must lie on
    that path. A token whose root the verifier does not know is therefore reported,
    not refused, while a token altered in any way still fails.
    """
    if len(subject) != ROOT_SIZE:
        raise MalformedProofError(
            f"an anchor subject is a {ROOT_SIZE}-byte digest, got {len(subject)} bytes"
        )
    token = parse_timestamp_token(token_der)
    _check_binding(token, subject)
    signer = verify_token_signature(token, chain)
    check_tsa_certificate(signer)
    trusted_der = {root.public_bytes(Encoding.DER) for root in trust_roots}
    shipped_roots = [c for c in chain if _self_issued(c)]
    candidates = [*token.certificates, *chain]
    try:
        path = validate_chain(signer, candidates, trust_roots, token.gen_time)
    except ChainValidationError:
        if not shipped_roots:
            raise
        path = validate_chain(signer, candidates, shipped_roots, token.gen_time)
    used = {cert.public_bytes(Encoding.DER) for cert in path}
    for cert in candidates:
        if cert.public_bytes(Encoding.DER) not in used:
            raise UnusedAnchorCertificateError(
                f"the anchor carries a certificate its chain does not use "
                f"({cert.subject.rfc4514_string()})"
            )
    return ExternalTokenCheck(
        gen_time=token.gen_time,
        signer=signer,
        path=tuple(path),
        trusted=path[-1].public_bytes(Encoding.DER) in trusted_der,
    )


def external_chain(
    token_der: bytes, trust_roots: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """The path from a stored token's signer up to the operator's root for that TSA, to
    ship beside the token: a verifier without that root can then still check the token
    is intact. Empty if no path can be built (the roots were reconfigured since)."""
    try:
        token = parse_timestamp_token(token_der)
        signer = verify_token_signature(token, ())
        return list(validate_chain(signer, token.certificates, trust_roots, token.gen_time))
    except ProofVerificationError:
        return []
