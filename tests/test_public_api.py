"""The public Python API: ``notarium.verify`` (offline verification) and ``notarium.client``
(the SDK, with the webhook receiver's helper). Renaming or dropping one of these names
breaks code outside this repository, so each is pinned here."""

from __future__ import annotations

import importlib
import inspect
import json
import time

import pytest

VERIFY = {
    "BlockHeaders",
    "Check",
    "Report",
    "verify_evidence_package",
    "verify_pdf",
    "verify_proof",
}
CLIENT = {
    "ApiError",
    "NotariumClient",
    "WebhookVerificationError",
    "verify_webhook",
}


@pytest.mark.parametrize(
    ("module", "names"), [("notarium.verify", VERIFY), ("notarium.client", CLIENT)]
)
def test_all_is_exactly_the_public_api(module: str, names: set[str]) -> None:
    public = importlib.import_module(module)
    assert set(public.__all__) == names
    assert len(public.__all__) == len(names)


@pytest.mark.parametrize(
    ("module", "name"),
    [("notarium.verify", n) for n in sorted(VERIFY)]
    + [("notarium.client", n) for n in sorted(CLIENT)],
)
def test_every_public_name_resolves(module: str, name: str) -> None:
    value = getattr(importlib.import_module(module), name)
    assert inspect.isclass(value) or inspect.isfunction(value)
    # Defined in notarium, not a third-party object passed through.
    assert value.__module__.startswith("notarium.")


def test_star_import_gives_the_public_names() -> None:
    for module, names in (("notarium.verify", VERIFY), ("notarium.client", CLIENT)):
        scope: dict[str, object] = {}
        exec(f"from {module} import *", scope)  # noqa: S102
        assert set(scope) - {"__builtins__"} == names


def test_the_report_is_the_one_every_verifier_returns() -> None:
    from notarium.verify import Check, Report, verify_evidence_package, verify_pdf, verify_proof

    for verifier in (verify_proof, verify_evidence_package, verify_pdf):
        returned = inspect.signature(verifier, eval_str=True).return_annotation
        assert issubclass(returned, Report), verifier
    assert Report((Check("x", "failed", "why"),)).ok is False


def test_verify_webhook_checks_a_delivery_as_the_sender_signs_it() -> None:
    from notarium.client import WebhookVerificationError, verify_webhook
    from notarium.formats.webhook_signature import new_secret, sign

    secret = new_secret()
    body = json.dumps({"event": "certificate.confirmed"}).encode()
    headers = sign(secret, msg_id="msg_1", timestamp=int(time.time()), body=body)
    verify_webhook(secret=secret, headers=headers, body=body)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret=secret, headers=headers, body=body + b" ")
