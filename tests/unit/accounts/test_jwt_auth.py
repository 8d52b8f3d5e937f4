"""JWT verification rules, including the seal document's own example token."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest

from notarium.core.clock import FrozenClock
from notarium.ledger.accounts.jwt_auth import (
    AlgorithmNotAllowed,
    ClaimMissing,
    KeyIdMissing,
    KeyIdUnknown,
    LifetimeTooLong,
    SignatureInvalid,
    TokenExpired,
    TokenMalformed,
    TokenNotYetValid,
    TokenPolicy,
    looks_like_jwt,
    verify_token,
)

# From the document: credentials, and the token they give for iat = nbf = 1546300800,
# exp = 1546300860.
KID = "3b438437-04a4-40bb-8389-54bb02766fba"
SECRET = "AC4Etykn7jusGR5FwLDAtILtQbiQbTMKedP31szXg4WlSbjGEXyNMZ"
DOCUMENT_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IjNiNDM4NDM3LTA0YTQtNDBiYi04Mzg5LTU0YmIwMjc2"
    "NmZiYSJ9.eyJpYXQiOjE1NDYzMDA4MDAsIm5iZiI6MTU0NjMwMDgwMCwiZXhwIjoxNTQ2MzAwODYwfQ."
    "bwqCUHS1d5d8guAPHDsdd9-a8oXxH1q45O0tDP1asTo"
)
POLICY = TokenPolicy(max_lifetime=3600, leeway=0)


def at(seconds: int) -> FrozenClock:
    return FrozenClock(datetime.fromtimestamp(seconds, UTC))


def secrets(kid: str) -> str | None:
    return SECRET if kid == KID else None


def mint(
    payload: dict[str, object],
    *,
    key: str = SECRET,
    headers: dict[str, object] | None = None,
    algorithm: str = "HS256",
) -> str:
    return jwt.encode(
        payload, key, algorithm=algorithm, headers={"kid": KID} if headers is None else headers
    )


def test_document_token_within_its_window() -> None:
    assert looks_like_jwt(DOCUMENT_TOKEN)
    for now in (1546300800, 1546300830, 1546300859):
        kid, claims = verify_token(DOCUMENT_TOKEN, secrets, at(now), POLICY)
        assert kid == KID and claims == {"iat": 1546300800, "nbf": 1546300800, "exp": 1546300860}


def test_document_token_outside_its_window() -> None:
    with pytest.raises(TokenNotYetValid):
        verify_token(DOCUMENT_TOKEN, secrets, at(1546300799), POLICY)
    with pytest.raises(TokenExpired):
        verify_token(DOCUMENT_TOKEN, secrets, at(1546300860), POLICY)


def test_leeway_allows_small_clock_skew() -> None:
    skewed = TokenPolicy(leeway=30)
    verify_token(DOCUMENT_TOKEN, secrets, at(1546300775), skewed)
    verify_token(DOCUMENT_TOKEN, secrets, at(1546300885), skewed)
    with pytest.raises(TokenExpired):
        verify_token(DOCUMENT_TOKEN, secrets, at(1546300891), skewed)


NOW = 1_800_000_000
GOOD = {"iat": NOW, "nbf": NOW, "exp": NOW + 60}


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ("not.a.jwt", TokenMalformed),
        (mint(GOOD, algorithm="HS384"), AlgorithmNotAllowed),
        (jwt.encode(GOOD, None, algorithm="none", headers={"kid": KID}), AlgorithmNotAllowed),
        (mint(GOOD, headers={}), KeyIdMissing),
        (mint(GOOD, headers={"kid": "someone-else"}), KeyIdUnknown),
        (mint(GOOD, key="wrong-secret-wrong-secret-wrong-secret!"), SignatureInvalid),
        (mint({"iat": NOW, "exp": NOW + 60}), ClaimMissing),
        (mint({"iat": NOW, "nbf": NOW}), ClaimMissing),
        (mint({"iat": str(NOW), "nbf": NOW, "exp": NOW + 60}), ClaimMissing),
        (mint({"iat": NOW, "nbf": NOW, "exp": NOW + 7200}), LifetimeTooLong),
        (mint({"iat": NOW + 600, "nbf": NOW + 600, "exp": NOW + 660}), TokenNotYetValid),
        (mint({"iat": NOW - 600, "nbf": NOW - 600, "exp": NOW - 540}), TokenExpired),
    ],
)
def test_each_fault_has_its_own_error(token: str, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        verify_token(token, secrets, at(NOW), POLICY)
    assert raised.value.code.startswith("TOKEN_")  # type: ignore[attr-defined]


def test_rs256_hs256_confusion_is_refused() -> None:
    # A token claiming RS256 "signed" with the HMAC secret as if it were a public key.
    header = jwt.utils.base64url_encode(
        b'{"alg":"RS256","typ":"JWT","kid":"' + KID.encode() + b'"}'
    ).decode()
    payload = jwt.utils.base64url_encode(b'{"iat":1,"nbf":1,"exp":2}').decode()
    with pytest.raises(AlgorithmNotAllowed):
        verify_token(f"{header}.{payload}.c2ln", secrets, at(NOW), POLICY)


def test_valid_token_at_now() -> None:
    assert verify_token(mint(GOOD), secrets, at(NOW), POLICY)[0] == KID
    assert verify_token(mint(GOOD), secrets, at(NOW + 59), POLICY)[0] == KID
