"""Webhook signatures: the Standard Webhooks headers, the document-style body signature,
secret rotation, and the receivers people copy from the published documentation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from notarium.core.errors import ValidationError
from notarium.formats.webhook_signature import (
    body_signature,
    public_key_text,
    secret_bytes,
    standard_signature,
)
from notarium.notify.webhooks import WebhookVerificationError, new_secret, sign, verify
from readiness import reap

RECEIVERS = Path(__file__).resolve().parents[2] / "webhook_receivers"
NOW = 1_760_000_000
BODY = json.dumps(
    {
        "event": "certificate.confirmed",
        "timestamp": "2026-04-19T08:00:00.000Z",
        "data": {"publicId": "abc123def456", "metadata": {"customerId": "cust_abc123"}},
    },
    separators=(",", ":"),
).encode()


def _signed(secret: str | list[str], *, body: bytes = BODY, ts: int = NOW) -> dict[str, str]:
    return sign(secret, msg_id="msg_2mX0d1", timestamp=ts, body=body)


# -- secrets ------------------------------------------------------------------------------


def test_new_secret_is_whsec_and_base64_of_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[len("whsec_") :], validate=True)) == 32
    assert secret_bytes(secret) == base64.b64decode(secret[len("whsec_") :])
    assert new_secret() != secret


def test_secret_bytes_accepts_the_bare_base64_part() -> None:
    assert secret_bytes("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == secret_bytes(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    )


@pytest.mark.parametrize("bad", ["", "whsec_", "whsec_not base64!", "whsec_abc", "whsec_é="])
def test_secret_bytes_refuses_what_is_not_base64(bad: str) -> None:
    with pytest.raises(ValidationError, match="secret"):
        secret_bytes(bad)


# -- signing ------------------------------------------------------------------------------


def test_standard_webhooks_published_vector() -> None:
    # The specification's own example, reproduced by every Standard Webhooks library.
    assert (
        standard_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp=1614265330,
            body=b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_headers_match_an_independent_computation() -> None:
    raw_key = bytes(range(32))
    secret = "whsec_" + base64.b64encode(raw_key).decode()
    headers = sign(secret, msg_id="msg_42", timestamp=1700000000, body=b'{"a":1}')

    expected_v1 = base64.b64encode(
        hmac.new(raw_key, b'msg_42.1700000000.{"a":1}', hashlib.sha256).digest()
    ).decode()
    expected_hex = hmac.new(secret.encode(), b'{"a":1}', hashlib.sha256).hexdigest()
    assert headers == {
        "webhook-id": "msg_42",
        "webhook-timestamp": "1700000000",
        "webhook-signature": f"v1,{expected_v1}",
        "X-Provelio-Signature": expected_hex,
        "X-Notarium-Signature": expected_hex,
    }


def test_v1a_is_ed25519_over_the_standard_content_and_checks_with_the_public_key() -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    headers = sign(
        new_secret(), msg_id="msg_42", timestamp=1700000000, body=b'{"a":1}', signing_key=key
    )
    v1, v1a = headers["webhook-signature"].split(" ")
    assert v1.startswith("v1,") and v1a.startswith("v1a,")
    # Ed25519 is deterministic: the same key and content give these exact bytes.
    assert base64.b64decode(v1a[4:]) == key.sign(b'msg_42.1700000000.{"a":1}')
    published = public_key_text(key.public_key())
    assert published.startswith("whpk_")
    public = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(published[5:]))
    public.verify(base64.b64decode(v1a[4:]), b'msg_42.1700000000.{"a":1}')
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(v1a[4:]), b'msg_42.1700000000.{"a":2}')


def test_rotation_lists_one_signature_per_secret_newest_first() -> None:
    newest, older = new_secret(), new_secret()
    headers = _signed([newest, older])
    assert headers["webhook-signature"].split(" ") == [
        standard_signature(newest, msg_id="msg_2mX0d1", timestamp=NOW, body=BODY),
        standard_signature(older, msg_id="msg_2mX0d1", timestamp=NOW, body=BODY),
    ]
    assert headers["X-Notarium-Signature"] == body_signature(newest, BODY)
    assert headers["X-Provelio-Signature"] == body_signature(newest, BODY)


@pytest.mark.parametrize(
    ("secrets", "msg_id", "timestamp"),
    [([], "msg_1", NOW), ("whsec_AAAA", "", NOW), ("whsec_AAAA", "msg 1", NOW),
     ("whsec_AAAA", "msg_1\r\nX: y", NOW), ("whsec_AAAA", "msg_1", -1)],
)  # fmt: skip
def test_sign_refuses_what_cannot_make_valid_headers(
    secrets: str | list[str], msg_id: str, timestamp: int
) -> None:
    with pytest.raises(ValidationError):
        sign(secrets, msg_id=msg_id, timestamp=timestamp, body=b"{}")


# -- verifying ----------------------------------------------------------------------------


def test_round_trip() -> None:
    secret = new_secret()
    verify(secret=secret, headers=_signed(secret), body=BODY, now=NOW)


def test_header_names_are_case_insensitive() -> None:
    secret = new_secret()
    shouted = {name.upper(): value for name, value in _signed(secret).items()}
    verify(secret=secret, headers=shouted, body=BODY, now=NOW)


def test_standard_headers_alone_verify() -> None:
    secret = new_secret()
    headers = _signed(secret)
    del headers["X-Notarium-Signature"]
    verify(secret=secret, headers=headers, body=BODY, now=NOW)


def test_during_rotation_either_secret_verifies() -> None:
    newest, older = new_secret(), new_secret()
    headers = _signed([newest, older])
    verify(secret=newest, headers=headers, body=BODY, now=NOW)
    verify(secret=older, headers=headers, body=BODY, now=NOW)
    with pytest.raises(WebhookVerificationError, match="no v1 signature"):
        verify(secret=new_secret(), headers=headers, body=BODY, now=NOW)


def test_body_signature_is_checked_by_the_secret_it_was_made_with() -> None:
    newest, older = new_secret(), new_secret()
    headers = _signed([newest, older]) | {"X-Notarium-Signature": "00" * 32}
    with pytest.raises(WebhookVerificationError, match="X-Notarium-Signature"):
        verify(secret=newest, headers=headers, body=BODY, now=NOW)
    # The older secret cannot check it; its v1 signature already covers the body.
    verify(secret=older, headers=headers, body=BODY, now=NOW)


def test_tampered_body_fails() -> None:
    secret = new_secret()
    with pytest.raises(
        WebhookVerificationError, match="no v1 signature in webhook-signature matches"
    ):
        verify(secret=secret, headers=_signed(secret), body=BODY + b" ", now=NOW)


def test_tampered_id_fails() -> None:
    secret = new_secret()
    headers = _signed(secret) | {"webhook-id": "msg_other"}
    with pytest.raises(
        WebhookVerificationError, match="no v1 signature in webhook-signature matches"
    ):
        verify(secret=secret, headers=headers, body=BODY, now=NOW)


def test_tampered_timestamp_within_tolerance_fails() -> None:
    secret = new_secret()
    headers = _signed(secret) | {"webhook-timestamp": str(NOW + 1)}
    with pytest.raises(
        WebhookVerificationError, match="no v1 signature in webhook-signature matches"
    ):
        verify(secret=secret, headers=headers, body=BODY, now=NOW)


def test_zero_padded_timestamp_fails() -> None:
    secret = new_secret()
    headers = _signed(secret) | {"webhook-timestamp": f"0{NOW}"}
    with pytest.raises(
        WebhookVerificationError, match="no v1 signature in webhook-signature matches"
    ):
        verify(secret=secret, headers=headers, body=BODY, now=NOW)


def test_tampered_body_signature_fails() -> None:
    secret = new_secret()
    headers = _signed(secret) | {"X-Notarium-Signature": body_signature(secret, b"{}")}
    with pytest.raises(WebhookVerificationError, match="X-Notarium-Signature does not match"):
        verify(secret=secret, headers=headers, body=BODY, now=NOW)


def test_wrong_secret_fails() -> None:
    with pytest.raises(
        WebhookVerificationError, match="no v1 signature in webhook-signature matches"
    ):
        verify(secret=new_secret(), headers=_signed(new_secret()), body=BODY, now=NOW)


def test_old_and_future_timestamps_fail_both_ways() -> None:
    secret = new_secret()
    verify(secret=secret, headers=_signed(secret, ts=NOW - 300), body=BODY, now=NOW)
    verify(secret=secret, headers=_signed(secret, ts=NOW + 300), body=BODY, now=NOW)
    with pytest.raises(WebhookVerificationError, match="301 s old"):
        verify(secret=secret, headers=_signed(secret, ts=NOW - 301), body=BODY, now=NOW)
    with pytest.raises(WebhookVerificationError, match="301 s in the future"):
        verify(secret=secret, headers=_signed(secret, ts=NOW + 301), body=BODY, now=NOW)
    verify(
        secret=secret, headers=_signed(secret, ts=NOW - 3000), body=BODY, now=NOW, tolerance=3600
    )


def test_default_now_is_the_clock() -> None:
    import time

    secret = new_secret()
    verify(secret=secret, headers=_signed(secret, ts=int(time.time())), body=BODY)
    with pytest.raises(WebhookVerificationError, match="old"):
        verify(secret=secret, headers=_signed(secret, ts=NOW - 10_000_000), body=BODY)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"webhook-id": None}, "webhook-id header is missing"),
        ({"webhook-timestamp": None}, "webhook-timestamp header is missing"),
        ({"webhook-signature": None}, "webhook-signature header is missing"),
        ({"webhook-timestamp": "soon"}, "must be unix seconds"),
        ({"webhook-timestamp": "-5"}, "must be unix seconds"),
        ({"webhook-signature": "v1a,AAAA v2,BBBB"}, "holds no v1 signature"),
        ({"webhook-signature": "v1,not-base64!"}, "no v1 signature in webhook-signature matches"),
    ],
)
def test_malformed_headers_fail_precisely(change: dict[str, str | None], message: str) -> None:
    secret = new_secret()
    headers: dict[str, str] = {}
    for name, value in (_signed(secret) | change).items():
        if value is not None:
            headers[name] = value
    with pytest.raises(WebhookVerificationError, match=message):
        verify(secret=secret, headers=headers, body=BODY, now=NOW)


def test_a_malformed_receiver_secret_is_a_verification_error() -> None:
    with pytest.raises(WebhookVerificationError, match="base64"):
        verify(secret="whsec_???", headers=_signed(new_secret()), body=BODY, now=NOW)


def test_unknown_versions_are_skipped_among_several() -> None:
    secret = new_secret()
    headers = _signed(secret)
    headers["webhook-signature"] = "v1a,Zm9v " + headers["webhook-signature"]
    verify(secret=secret, headers=headers, body=BODY, now=NOW)


# -- the document's receivers -------------------------------------------------------------


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("notarium_test_flask_receiver", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_documented_flask_receiver_accepts_signed_and_refuses_tampered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = new_secret()
    monkeypatch.setenv("PROVELIO_WEBHOOK_SECRET", secret)
    client = _load(RECEIVERS / "flask_signature.py").app.test_client()
    headers = _signed(secret) | {"Content-Type": "application/json"}

    accepted = client.post("/webhooks/provelio", data=BODY, headers=headers)
    assert accepted.status_code == 200
    tampered = client.post("/webhooks/provelio", data=BODY.replace(b"abc", b"abd"), headers=headers)
    assert tampered.status_code == 401
    other_secret = _signed(new_secret()) | {"Content-Type": "application/json"}
    assert client.post("/webhooks/provelio", data=BODY, headers=other_secret).status_code == 401


@pytest.fixture
def express_receiver() -> Iterator[tuple[str, str]]:
    secret = new_secret()
    process = subprocess.Popen(
        ["node", str(RECEIVERS / "serve.mjs"), "express_signature.mjs"],
        env={"PATH": os.environ.get("PATH", ""), "PROVELIO_WEBHOOK_SECRET": secret},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip())
        yield f"http://127.0.0.1:{port}/webhooks/provelio", secret
    finally:
        reap(process)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_documented_express_receiver_accepts_signed_and_refuses_tampered(
    express_receiver: tuple[str, str],
) -> None:
    url, secret = express_receiver
    headers = _signed(secret) | {"Content-Type": "application/json"}
    with httpx.Client(trust_env=False, timeout=10) as client:
        assert client.post(url, content=BODY, headers=headers).status_code == 200
        tampered = BODY.replace(b"abc", b"abd")
        assert client.post(url, content=tampered, headers=headers).status_code == 401
        other = _signed(new_secret()) | {"Content-Type": "application/json"}
        assert client.post(url, content=BODY, headers=other).status_code == 401


def test_the_webhook_key_is_made_once_private_and_never_replaced(tmp_path: Path) -> None:
    from notarium.notify.webhooks.keys import WEBHOOK_KEY, load_or_create

    first = load_or_create(tmp_path)
    assert (tmp_path / WEBHOOK_KEY).stat().st_mode & 0o777 == 0o600
    again = load_or_create(tmp_path)
    assert public_key_text(again.public_key()) == public_key_text(first.public_key())
