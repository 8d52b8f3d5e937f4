"""JWT (HS256) authentication as the seal document describes it: credentials are a key id
and a secret; a client signs a short-lived token with `kid` in its header and `iat`,
`nbf` and `exp` (UNIX seconds) in its payload.

Every way a token can be wrong gets its own 401 code, so an integrator sees at once
whether the clock, the key or the token is at fault."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jwt

from notarium.core.clock import Clock
from notarium.core.errors import AuthenticationError

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("iat", "nbf", "exp")


class TokenMalformed(AuthenticationError):
    code = "TOKEN_MALFORMED"


class AlgorithmNotAllowed(AuthenticationError):
    code = "TOKEN_ALGORITHM_NOT_ALLOWED"


class KeyIdMissing(AuthenticationError):
    code = "TOKEN_KID_MISSING"


class KeyIdUnknown(AuthenticationError):
    code = "TOKEN_KID_UNKNOWN"


class SignatureInvalid(AuthenticationError):
    code = "TOKEN_SIGNATURE_INVALID"


class ClaimMissing(AuthenticationError):
    code = "TOKEN_CLAIM_MISSING"


class TokenExpired(AuthenticationError):
    code = "TOKEN_EXPIRED"


class TokenNotYetValid(AuthenticationError):
    code = "TOKEN_NOT_YET_VALID"


class LifetimeTooLong(AuthenticationError):
    code = "TOKEN_LIFETIME_TOO_LONG"


@dataclass(frozen=True)
class TokenPolicy:
    max_lifetime: int = 3600
    """Longest `exp - iat` accepted, in seconds: a leaked token must not live for long."""
    leeway: int = 30
    """Clock skew allowed between the client and this server, in seconds."""


def looks_like_jwt(token: str) -> bool:
    """A compact JWS: three base64url parts, the header starting as JSON does."""
    return token.count(".") == 2 and token.startswith("eyJ")


def verify_token(
    token: str,
    secret_for: Callable[[str], str | None],
    clock: Clock,
    policy: TokenPolicy,
) -> tuple[str, dict[str, int]]:
    """The credentials' key id and the checked claims; raises one of the errors above.

    ``secret_for(kid)`` returns the secret of active credentials, or None."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenMalformed("The Bearer token is not a well-formed JWT.") from None
    # Only HS256: `none`, and any public-key algorithm that could be fed the HMAC secret
    # as a "public key", are refused before the secret is even looked up.
    if header.get("alg") != ALGORITHM:
        raise AlgorithmNotAllowed(
            f"The JWT uses alg {header.get('alg')!r}; only {ALGORITHM} is accepted."
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise KeyIdMissing("The JWT header has no `kid` naming the credentials' key id.")
    secret = secret_for(kid)
    if secret is None:
        raise KeyIdUnknown(f"No active credentials have key id {kid!r}.")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            # Times are judged below against the service clock, so tests can freeze it.
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise SignatureInvalid("The JWT signature does not match the credentials.") from None
    except jwt.PyJWTError as exc:
        raise TokenMalformed(f"The JWT cannot be read: {exc}") from None
    times: dict[str, int] = {}
    for name in REQUIRED_CLAIMS:
        value = claims.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ClaimMissing(f"The JWT needs `{name}` as UNIX seconds (an integer).")
        times[name] = value
    now = int(clock.now().timestamp())
    if now + policy.leeway < times["nbf"] or now + policy.leeway < times["iat"]:
        raise TokenNotYetValid(
            f"The JWT is not valid before {max(times['nbf'], times['iat'])}; the clock here "
            f"reads {now}."
        )
    if now - policy.leeway >= times["exp"]:
        raise TokenExpired(f"The JWT expired at {times['exp']}; the clock here reads {now}.")
    if times["exp"] - times["iat"] > policy.max_lifetime:
        raise LifetimeTooLong(
            f"The JWT lives {times['exp'] - times['iat']} s; at most {policy.max_lifetime} s "
            "are accepted."
        )
    return kid, times
