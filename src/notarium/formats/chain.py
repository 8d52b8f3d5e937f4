"""Certificate path validation for the TSA certificate, at the token's genTime.

A time-stamp must stay verifiable after its certificates expire, so validity is
judged at the instant the TSA claims to have signed, never at "now". Only the
caller's trust roots are trusted; certificates carried in the bundle or token
are merely candidates for intermediate links. The profile is deliberately small
(a private two- or three-level hierarchy), so path building is done here rather
than with a web-PKI policy engine, which would impose server-certificate rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from notarium.formats.errors import ChainValidationError

MAX_PATH_LENGTH = 8

# Critical extensions whose meaning this validator enforces; any other critical
# extension makes a certificate unusable (RFC 5280 §4.2).
_UNDERSTOOD_CRITICAL = frozenset(
    {
        x509.BasicConstraints.oid,
        x509.KeyUsage.oid,
        x509.ExtendedKeyUsage.oid,
        x509.SubjectAlternativeName.oid,
    }
)


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _validity_problem(cert: x509.Certificate, at: datetime) -> str | None:
    if cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        return None
    return (
        f"certificate {_name(cert)!r} is not valid at the token's genTime "
        f"{at.isoformat()} (valid from {cert.not_valid_before_utc.isoformat()} "
        f"to {cert.not_valid_after_utc.isoformat()})"
    )


def _critical_problem(cert: x509.Certificate) -> str | None:
    for ext in cert.extensions:
        if ext.critical and ext.oid not in _UNDERSTOOD_CRITICAL:
            return (
                f"certificate {_name(cert)!r} has an unsupported critical extension "
                f"{ext.oid.dotted_string}"
            )
    return None


def _issuer_problem(
    issuer: x509.Certificate, child: x509.Certificate, cas_below: int, at: datetime
) -> str | None:
    """Why ``issuer`` cannot be the next link above ``child``, or None if it can."""
    try:
        child.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return (
            f"signature on certificate {_name(child)!r} does not verify with the key "
            f"of {_name(issuer)!r}"
        )
    try:
        basic = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return f"issuer {_name(issuer)!r} has no basicConstraints and is not a CA"
    if not basic.ca:
        return f"issuer {_name(issuer)!r} is not a CA (basicConstraints cA is false)"
    if basic.path_length is not None and cas_below > basic.path_length:
        return (
            f"issuer {_name(issuer)!r} allows {basic.path_length} intermediate CA(s) "
            f"below it, path has {cas_below}"
        )
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.key_cert_sign:
        return f"issuer {_name(issuer)!r} key usage does not permit keyCertSign"
    return _validity_problem(issuer, at) or _critical_problem(issuer)


def validate_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    trust_roots: Sequence[x509.Certificate],
    at: datetime,
) -> tuple[x509.Certificate, ...]:
    """Return a path ``leaf, ..., root`` valid at ``at``, or raise ``ChainValidationError``.

    Every link's signature, CA status, path length, keyCertSign usage and validity
    at ``at`` are checked; the path must end at one of ``trust_roots``.
    """
    if not trust_roots:
        raise ChainValidationError("no trust roots were supplied; the TSA cannot be trusted")
    problem = _validity_problem(leaf, at) or _critical_problem(leaf)
    if problem is not None:
        raise ChainValidationError(problem)

    problems: list[str] = []
    roots = list(trust_roots)
    pool = [c for c in intermediates if c not in roots and c != leaf]

    def extend(path: list[x509.Certificate]) -> list[x509.Certificate] | None:
        child = path[-1]
        cas_below = len(path) - 1
        named = False
        for root in roots:
            if root.subject == child.issuer:
                named = True
                why = _issuer_problem(root, child, cas_below, at)
                if why is None:
                    return [*path, root]
                problems.append(why)
        if len(path) >= MAX_PATH_LENGTH:
            problems.append(f"path exceeds {MAX_PATH_LENGTH} certificates")
            return None
        for candidate in pool:
            if candidate in path or candidate.subject != child.issuer:
                continue
            named = True
            why = _issuer_problem(candidate, child, cas_below, at)
            if why is not None:
                problems.append(why)
                continue
            found = extend([*path, candidate])
            if found is not None:
                return found
        if not named:
            if child.issuer == child.subject:
                problems.append(
                    f"the chain ends at self-signed certificate {_name(child)!r}, "
                    "which is not one of the trust roots"
                )
            else:
                problems.append(
                    f"no certificate named {child.issuer.rfc4514_string()!r} (issuer of "
                    f"{_name(child)!r}) is among the trust roots or the bundle chain"
                )
        return None

    path = extend([leaf])
    if path is not None:
        return tuple(path)
    unique = list(dict.fromkeys(problems))
    raise ChainValidationError(
        f"TSA certificate {_name(leaf)!r} does not chain to a trusted root: " + "; ".join(unique)
    )
