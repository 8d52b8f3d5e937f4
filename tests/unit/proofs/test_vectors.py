"""The proof vectors of tests/vectors/proofs: the committed files are exactly what their
generator makes, every one gets its expected verdict from the verifier, and together the
invalid ones pin every step and every error code of docs/proof-format.md."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography import x509

from notarium.core.errors import ProofVerificationError
from notarium.verify import BlockHeaders, verify_proof

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "tests" / "vectors" / "proofs"
CASES = VECTORS / "cases"
DOC = ROOT / "docs" / "proof-format.md"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("proof_vector_generator", VECTORS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up while the class is being made.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _load(name: str) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads((CASES / name).read_text(encoding="utf-8"))
    return vector


def _names() -> list[str]:
    return sorted(p.name for p in CASES.glob("*.json") if p.name != "index.json")


def test_committed_vectors_are_exactly_what_the_generator_makes() -> None:
    made = _generator().build_vectors()
    committed = {p.name: p.read_text(encoding="utf-8") for p in CASES.glob("*.json")}
    assert sorted(committed) == sorted(made)
    for name, text in made.items():
        assert committed[name] == text, f"{name} differs from the generator's output"


def _headers(spec: dict[str, Any]) -> BlockHeaders | None:
    if spec["mode"] == "by_height":
        table = {int(h): bytes.fromhex(v) for h, v in spec["by_height"].items()}
        return BlockHeaders(by_height=table.get)
    if spec["mode"] == "given":
        return BlockHeaders(given=tuple(bytes.fromhex(v) for v in spec["given"]))
    assert spec["mode"] == "none"
    return None


def _run(vector: dict[str, Any]) -> Any:
    return verify_proof(
        base64.b64decode(vector["proof_base64"]),
        sha256=vector["file_sha256"],
        trust_roots=[x509.load_pem_x509_certificate(p.encode()) for p in vector["trust_roots"]],
        service_public_keys=[base64.b64decode(k) for k in vector["service_public_keys"]],
        headers=_headers(vector["block_headers"]),
    )


@pytest.mark.parametrize("name", _names())
def test_vector_gets_its_expected_verdict(name: str) -> None:
    vector = _load(name)
    assert vector["name"] + ".json" == name
    expected = vector["expected"]
    if not expected["valid"]:
        with pytest.raises(ProofVerificationError) as raised:
            _run(vector)
        assert raised.value.code == expected["code"], raised.value.message
        return
    report = _run(vector)
    assert report.ok
    assert report.anchored is expected["anchored"]
    assert report.log_included is expected["log_included"]
    assert [{"kind": a.kind, "status": a.status} for a in report.anchors] == expected["anchors"]
    assert {c.name: c.status for c in report.checks} == expected["checks"]


def test_invalid_vectors_pin_every_step_and_every_error_code() -> None:
    vectors = [_load(name) for name in _names()]
    invalid = [v for v in vectors if not v["expected"]["valid"]]
    steps = {int(n) for v in invalid for n in re.findall(r"§14 step (\d+)", v["rule"])}
    assert steps == set(range(1, 17))
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("## 18. Error codes") : text.index("## 19.")]
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", table, re.MULTILINE))
    # The one input error is about the caller's hash, not the proof.
    documented.discard("INVALID_SHA256_HASH")
    assert documented <= {v["expected"]["code"] for v in invalid}
    names = [v["name"] for v in vectors]
    assert len(names) == len(set(names))


def test_every_vector_is_self_contained() -> None:
    for name in _names():
        vector = _load(name)
        assert set(vector) == {
            "name",
            "description",
            "rule",
            "expected",
            "proof_base64",
            "file_sha256",
            "trust_roots",
            "service_public_keys",
            "block_headers",
        }
        for root in vector["trust_roots"]:
            x509.load_pem_x509_certificate(root.encode())
