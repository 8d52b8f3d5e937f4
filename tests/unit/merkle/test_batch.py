from __future__ import annotations

import copy
import dataclasses
import gc
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notarium.core.errors import ValidationError
from notarium.formats.merkle import (
    Batch,
    LeafProof,
    MalformedLeafProofError,
    MerkleInputError,
    Step,
    build_batch,
    ots_ops,
    proof_from_json,
    proof_to_json,
    root_from_proof,
)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def digests_for(count: int) -> list[bytes]:
    return [sha(b"record %d" % i) for i in range(count)]


def nonces_for(count: int) -> list[bytes]:
    return [sha(b"nonce %d" % i)[:16] for i in range(count)]


def reference_root(leaves: list[bytes]) -> bytes:
    """Straightforward recursion-free statement of the documented tree rule."""
    level = leaves
    while len(level) > 1:
        paired = [sha(level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def reference_path(leaves: list[bytes], index: int) -> list[Step]:
    path = []
    level = leaves
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            side = "left" if index % 2 else "right"
            path.append(Step(side=side, sibling=level[sibling]))
        paired = [sha(level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
        index //= 2
    return path


class TestBuild:
    @pytest.mark.parametrize("count", [*range(1, 34), 63, 64, 65, 100, 257])
    def test_matches_the_documented_rule(self, count: int) -> None:
        digests, nonces = digests_for(count), nonces_for(count)
        batch = build_batch(digests, nonces=nonces)
        leaves = [sha(d + n) for d, n in zip(digests, nonces, strict=True)]
        assert batch.root == reference_root(leaves)
        assert len(batch.proofs) == count
        for index, proof in enumerate(batch.proofs):
            assert proof.digest == digests[index]
            assert proof.nonce == nonces[index]
            assert list(proof.path) == reference_path(leaves, index)
            assert root_from_proof(proof) == batch.root

    def test_single_leaf_is_its_own_root(self) -> None:
        digest, nonce = digests_for(1)[0], nonces_for(1)[0]
        batch = build_batch([digest], nonces=[nonce])
        assert batch.root == sha(digest + nonce)
        assert batch.proofs == (LeafProof(digest=digest, nonce=nonce, path=()),)

    def test_odd_node_is_promoted_not_duplicated(self) -> None:
        digests, nonces = digests_for(3), nonces_for(3)
        leaves = [sha(d + n) for d, n in zip(digests, nonces, strict=True)]
        batch = build_batch(digests, nonces=nonces)
        left = sha(leaves[0] + leaves[1])
        assert batch.root == sha(left + leaves[2])
        assert batch.root != sha(left + sha(leaves[2] + leaves[2]))
        assert batch.proofs[2].path == (Step(side="left", sibling=left),)
        assert batch.proofs[0].path == (
            Step(side="right", sibling=leaves[1]),
            Step(side="right", sibling=leaves[2]),
        )

    def test_bulk_built_values_behave_like_constructed_ones(self) -> None:
        batch = build_batch(digests_for(5), nonces=nonces_for(5))
        proof = batch.proofs[4]
        rebuilt = LeafProof(
            digest=proof.digest,
            nonce=proof.nonce,
            path=tuple(Step(side=s.side, sibling=s.sibling) for s in proof.path),
        )
        assert proof == rebuilt
        assert hash(proof) == hash(rebuilt)
        assert repr(proof) == repr(rebuilt)
        assert copy.deepcopy(proof) == proof
        with pytest.raises(dataclasses.FrozenInstanceError):
            proof.path[0].side = "left"  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            proof.nonce = b""  # type: ignore[misc]
        assert isinstance(batch, Batch)
        assert isinstance(batch.proofs, tuple)

    def test_fresh_nonces_are_random_and_sized(self) -> None:
        digests = digests_for(50)
        first, second = build_batch(digests), build_batch(digests)
        assert first.root != second.root
        nonces = [p.nonce for p in first.proofs]
        assert all(len(n) == 16 for n in nonces)
        assert len(set(nonces)) == 50
        assert {p.nonce for p in second.proofs}.isdisjoint(nonces)
        assert all(root_from_proof(p) == first.root for p in first.proofs)

    def test_duplicate_digests_get_distinct_leaves(self) -> None:
        digest = digests_for(1)[0]
        batch = build_batch([digest, digest])
        assert batch.proofs[0].path[0].sibling != sha(digest + batch.proofs[0].nonce)

    @pytest.mark.parametrize("enabled", [True, False])
    def test_collector_state_is_restored(self, enabled: bool) -> None:
        was = gc.isenabled()
        try:
            gc.enable() if enabled else gc.disable()
            build_batch(digests_for(10))
            assert gc.isenabled() is enabled
            with pytest.raises(MerkleInputError):
                build_batch(digests_for(2), nonces=[b"short", b"short"])
            assert gc.isenabled() is enabled
        finally:
            gc.enable() if was else gc.disable()

    @pytest.mark.parametrize(
        ("digests", "nonces"),
        [
            ([], None),
            ([b"\x00" * 31], None),
            ([b"\x00" * 33], None),
            (["00" * 32], None),
            ([bytearray(32)], None),
            ([b"\x00" * 32, b"\x00" * 32], [b"\x00" * 16]),
            ([b"\x00" * 32], [b"\x00" * 15]),
            ([b"\x00" * 32], ["00" * 16]),
        ],
    )
    def test_rejects_bad_input(self, digests: list[Any], nonces: list[Any] | None) -> None:
        with pytest.raises(MerkleInputError) as caught:
            build_batch(digests, nonces=nonces)
        assert isinstance(caught.value, ValidationError)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=200))
    def test_every_proof_reaches_the_root(self, digests: list[bytes]) -> None:
        batch = build_batch(digests)
        for proof in batch.proofs:
            assert root_from_proof(proof) == batch.root


class TestTampering:
    @pytest.fixture
    def batch(self) -> Batch:
        return build_batch(digests_for(11), nonces=nonces_for(11))

    def test_changed_digest_nonce_or_sibling_changes_the_root(self, batch: Batch) -> None:
        proof = batch.proofs[6]
        flipped = bytes([proof.digest[0] ^ 1]) + proof.digest[1:]
        assert root_from_proof(dataclasses.replace(proof, digest=flipped)) != batch.root
        other_nonce = bytes(16)
        assert root_from_proof(dataclasses.replace(proof, nonce=other_nonce)) != batch.root
        for position in range(len(proof.path)):
            path = list(proof.path)
            step = path[position]
            path[position] = Step(side=step.side, sibling=bytes(32))
            assert root_from_proof(dataclasses.replace(proof, path=tuple(path))) != batch.root
            other_side = "left" if step.side == "right" else "right"
            path[position] = Step(side=other_side, sibling=step.sibling)
            assert root_from_proof(dataclasses.replace(proof, path=tuple(path))) != batch.root
        assert root_from_proof(dataclasses.replace(proof, path=proof.path[:-1])) != batch.root

    @pytest.mark.parametrize(
        "change",
        [
            {"digest": b"\x00" * 31},
            {"nonce": b"\x00" * 17},
            {"path": (Step(side="up", sibling=bytes(32)),)},  # type: ignore[arg-type]
            {"path": (Step(side="left", sibling=bytes(31)),)},
            {"path": [Step(side="left", sibling=bytes(32))]},
            {"path": ("not a step",)},
            {"path": (Step(side="left", sibling=bytes(32)),) * 65},
        ],
    )
    def test_malformed_proofs_are_refused(self, batch: Batch, change: dict[str, Any]) -> None:
        proof = dataclasses.replace(batch.proofs[0], **change)
        for operation in (root_from_proof, ots_ops, proof_to_json):
            with pytest.raises(MalformedLeafProofError):
                operation(proof)


class TestJson:
    def test_round_trip(self) -> None:
        batch = build_batch(digests_for(9), nonces=nonces_for(9))
        for proof in batch.proofs:
            data = proof_to_json(proof)
            assert proof_from_json(json.loads(json.dumps(data))) == proof

    def test_shape(self) -> None:
        digests, nonces = digests_for(2), nonces_for(2)
        batch = build_batch(digests, nonces=nonces)
        assert proof_to_json(batch.proofs[1]) == {
            "digest": digests[1].hex(),
            "nonce": nonces[1].hex(),
            "path": [{"side": "left", "sibling": sha(digests[0] + nonces[0]).hex()}],
        }

    @staticmethod
    def mutations() -> Iterator[tuple[str, Any]]:
        good = proof_to_json(build_batch(digests_for(4), nonces=nonces_for(4)).proofs[1])

        def variant(**changes: Any) -> dict[str, Any]:
            data = copy.deepcopy(good)
            data.update(changes)
            return data

        def step_variant(**changes: Any) -> dict[str, Any]:
            data = copy.deepcopy(good)
            data["path"][0].update(changes)
            return data

        yield "not an object", [good]
        yield "extra key", variant(extra=1)
        yield "missing key", {k: v for k, v in good.items() if k != "nonce"}
        yield "uppercase hex", variant(digest=good["digest"].upper())
        yield "short digest", variant(digest=good["digest"][:-2])
        yield "long nonce", variant(nonce=good["nonce"] + "00")
        yield "odd hex", variant(nonce=good["nonce"][:-1] + "g")
        yield "spaces in hex", variant(nonce=" " + good["nonce"][1:])
        yield "bytes digest", variant(digest=bytes.fromhex(good["digest"]))
        yield "path not a list", variant(path={"0": good["path"][0]})
        yield "path too long", variant(path=good["path"] * 33)
        yield "step not an object", variant(path=["left"])
        yield "unknown side", step_variant(side="up")
        yield "capitalised side", step_variant(side="Left")
        yield "extra step key", step_variant(position=0)
        yield "short sibling", step_variant(sibling=good["path"][0]["sibling"][:62])
        yield "missing sibling", variant(path=[{"side": "left"}])

    @pytest.mark.parametrize(("label", "data"), list(mutations()), ids=lambda v: str(v)[:20])
    def test_strict_parsing(self, label: str, data: Any) -> None:
        with pytest.raises(MalformedLeafProofError) as caught:
            proof_from_json(data)
        assert isinstance(caught.value, ValidationError)
        assert caught.value.code == "MERKLE_PROOF_MALFORMED"


class TestOpenTimestamps:
    def test_ops_replayed_by_hand_reach_the_root(self) -> None:
        batch = build_batch(digests_for(13), nonces=nonces_for(13))
        for proof in batch.proofs:
            ops = ots_ops(proof)
            assert ops[:2] == [("append", proof.nonce), ("sha256", None)]
            assert len(ops) == 2 + 2 * len(proof.path)
            message = proof.digest
            for name, argument in ops:
                if name == "append":
                    assert argument is not None
                    message = message + argument
                elif name == "prepend":
                    assert argument is not None
                    message = argument + message
                else:
                    assert argument is None
                    message = sha(message)
            assert message == batch.root

    def test_opentimestamps_timestamp_reaches_the_root(self) -> None:
        core_op = pytest.importorskip("opentimestamps.core.op")
        core_timestamp = pytest.importorskip("opentimestamps.core.timestamp")
        notary = pytest.importorskip("opentimestamps.core.notary")
        serialize = pytest.importorskip("opentimestamps.core.serialize")

        batch = build_batch(digests_for(6), nonces=nonces_for(6))
        for proof in batch.proofs:
            timestamp = core_timestamp.Timestamp(proof.digest)
            tip = timestamp
            for name, argument in ots_ops(proof):
                if name == "append":
                    operation = core_op.OpAppend(argument)
                elif name == "prepend":
                    operation = core_op.OpPrepend(argument)
                else:
                    operation = core_op.OpSHA256()
                tip = tip.ops.add(operation)
            assert tip.msg == batch.root

            # The path survives the .ots wire format and still ends at the root.
            tip.attestations.add(notary.PendingAttestation("https://calendar.example"))
            out = serialize.BytesSerializationContext()
            timestamp.serialize(out)
            parsed = core_timestamp.Timestamp.deserialize(
                serialize.BytesDeserializationContext(out.getbytes()), proof.digest
            )
            assert [msg for msg, _ in parsed.all_attestations()] == [batch.root]


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13, 64, 100])
def test_proof_on_demand_equals_materialised_proofs(count: int) -> None:
    batch = build_batch(digests_for(count), nonces=nonces_for(count))
    assert len(batch) == count
    assert [batch.proof(i) for i in range(count)] == list(batch.proofs)
    with pytest.raises(IndexError):
        batch.proof(count)
