from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notarium.core.errors import ValidationError
from notarium.formats.tlog.errors import InvalidLogHashError, LogRangeError
from notarium.formats.tlog.tree import (
    EMPTY_ROOT,
    HashTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

from .conftest import load_vectors

VECTORS = load_vectors("rfc6962.json")
LEAVES = [bytes.fromhex(leaf) for leaf in VECTORS["leaves"]]
LEAF_HASHES = [leaf_hash(leaf) for leaf in LEAVES]
ROOTS = [bytes.fromhex(value) for value in VECTORS["roots"]]


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# RFC 6962 §2.1, written as literally as possible as an independent reference.
def largest_power_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(hashes: list[bytes]) -> bytes:
    if not hashes:
        return sha(b"")
    if len(hashes) == 1:
        return hashes[0]
    k = largest_power_below(len(hashes))
    return sha(b"\x01" + ref_mth(hashes[:k]) + ref_mth(hashes[k:]))


def ref_path(m: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = largest_power_below(len(hashes))
    if m < k:
        return [*ref_path(m, hashes[:k]), ref_mth(hashes[k:])]
    return [*ref_path(m - k, hashes[k:]), ref_mth(hashes[:k])]


def ref_subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    if m == len(hashes):
        return [] if whole else [ref_mth(hashes)]
    k = largest_power_below(len(hashes))
    if m <= k:
        return [*ref_subproof(m, hashes[:k], whole), ref_mth(hashes[k:])]
    return [*ref_subproof(m - k, hashes[k:], False), ref_mth(hashes[:k])]


def leaf_hashes_for(count: int) -> list[bytes]:
    return [leaf_hash(b"entry %d" % i) for i in range(count)]


def flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


class TestReferenceVectors:
    def test_hashes(self) -> None:
        assert EMPTY_ROOT.hex() == VECTORS["empty_root"]
        assert root([]) == EMPTY_ROOT
        assert leaf_hash(b"") == ROOTS[0]
        assert node_hash(LEAF_HASHES[0], LEAF_HASHES[1]) == ROOTS[1]

    @pytest.mark.parametrize("size", range(1, 9))
    def test_roots(self, size: int) -> None:
        assert root(LEAF_HASHES[:size]) == ROOTS[size - 1]
        assert HashTree(LEAF_HASHES).root(size) == ROOTS[size - 1]
        assert ref_mth(LEAF_HASHES[:size]) == ROOTS[size - 1]

    @pytest.mark.parametrize(
        "vector", VECTORS["inclusion"], ids=lambda v: f"{v['index']}@{v['size']}"
    )
    def test_inclusion(self, vector: dict[str, Any]) -> None:
        index, size = vector["index"], vector["size"]
        path = tuple(bytes.fromhex(value) for value in vector["path"])
        assert inclusion_proof(LEAF_HASHES, index, size) == path
        assert verify_inclusion(LEAF_HASHES[index], index, size, path, ROOTS[size - 1])

    @pytest.mark.parametrize(
        "vector", VECTORS["consistency"], ids=lambda v: f"{v['old_size']}-{v['new_size']}"
    )
    def test_consistency(self, vector: dict[str, Any]) -> None:
        old, new = vector["old_size"], vector["new_size"]
        proof = tuple(bytes.fromhex(value) for value in vector["proof"])
        assert consistency_proof(LEAF_HASHES, old, new) == proof
        assert verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)


class TestAgainstReference:
    @pytest.mark.parametrize("size", range(1, 41))
    def test_every_proof_in_small_trees(self, size: int) -> None:
        hashes = leaf_hashes_for(size)
        tree = HashTree(hashes)
        expected_root = ref_mth(hashes)
        assert root(hashes) == expected_root == tree.root()
        for index in range(size):
            proof = tree.inclusion_proof(index)
            assert list(proof) == ref_path(index, hashes)
            assert inclusion_proof(hashes, index, size) == proof
            assert verify_inclusion(hashes[index], index, size, proof, expected_root)
        for old in range(1, size + 1):
            proof = tree.consistency_proof(old)
            expected = [] if old == size else ref_subproof(old, hashes, True)
            assert list(proof) == expected
            assert consistency_proof(hashes, old, size) == proof
            assert verify_consistency(old, size, ref_mth(hashes[:old]), expected_root, proof)

    def test_appending_matches_building(self) -> None:
        hashes = leaf_hashes_for(77)
        grown = HashTree()
        for index, value in enumerate(hashes):
            assert grown.append(value) == index
            built = HashTree(hashes[: index + 1])
            assert grown.root() == built.root() == ref_mth(hashes[: index + 1])
        assert grown.size == 77
        for start, end in [(0, 77), (64, 77), (3, 9), (5, 6), (10, 10), (16, 32)]:
            assert grown.subtree_root(start, end) == ref_mth(hashes[start:end])

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.integers(min_value=0, max_value=40), max_size=12))
    def test_extending_in_chunks_matches_building(self, chunks: list[int]) -> None:
        hashes = leaf_hashes_for(sum(chunks))
        probe = leaf_hash(b"probe")
        grown = HashTree()
        done = 0
        for chunk in chunks:
            grown.extend(hashes[done : done + chunk])
            done += chunk
            assert grown.size == done
            assert grown.root() == ref_mth(hashes[:done])
            mixed = HashTree(hashes[:done])
            mixed.append(probe)
            mixed.extend(hashes[:chunk])
            assert mixed.root() == ref_mth([*hashes[:done], probe, *hashes[:chunk]])
        for size in range(done + 1):
            assert grown.root(size) == ref_mth(hashes[:size])

    def test_extend_and_past_sizes(self) -> None:
        hashes = leaf_hashes_for(50)
        tree = HashTree(hashes[:20])
        tree.extend(hashes[20:])
        for size in (1, 7, 20, 32, 50):
            assert tree.root(size) == ref_mth(hashes[:size])
            assert list(tree.inclusion_proof(size - 1, size)) == ref_path(size - 1, hashes[:size])
        assert tree.root(0) == EMPTY_ROOT


@st.composite
def tree_and_positions(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    size = draw(st.integers(min_value=1, max_value=300))
    hashes = [leaf_hash(draw(st.binary(max_size=4)) + b"%d" % i) for i in range(size)]
    index = draw(st.integers(min_value=0, max_value=size - 1))
    old = draw(st.integers(min_value=1, max_value=size))
    return hashes, index, old


class TestProperties:
    @settings(max_examples=40, deadline=None)
    @given(tree_and_positions())
    def test_all_proofs_verify(self, case: tuple[list[bytes], int, int]) -> None:
        hashes, _, _ = case
        size = len(hashes)
        tree = HashTree(hashes)
        new_root = tree.root()
        assert new_root == root(hashes)
        for index in range(size):
            assert verify_inclusion(
                hashes[index], index, size, tree.inclusion_proof(index), new_root
            )
        for old in range(0, size + 1):
            assert verify_consistency(
                old, size, tree.root(old), new_root, tree.consistency_proof(old)
            )

    @settings(max_examples=150, deadline=None)
    @given(tree_and_positions(), st.data())
    def test_tampered_inclusion_fails(
        self, case: tuple[list[bytes], int, int], data: st.DataObject
    ) -> None:
        hashes, index, _ = case
        size = len(hashes)
        tree = HashTree(hashes)
        proof = list(tree.inclusion_proof(index))
        good_root = tree.root()
        leaf = hashes[index]
        assert verify_inclusion(leaf, index, size, proof, good_root)

        for position in range(len(proof)):
            changed = list(proof)
            changed[position] = flip(changed[position], data.draw(st.integers(0, 7)))
            assert not verify_inclusion(leaf, index, size, changed, good_root)
        if proof:
            assert not verify_inclusion(leaf, index, size, proof[:-1], good_root)
            assert not verify_inclusion(leaf, index, size, proof[1:], good_root)
        assert not verify_inclusion(leaf, index, size, [*proof, good_root], good_root)
        assert not verify_inclusion(leaf, index, size, [good_root, *proof], good_root)
        assert not verify_inclusion(flip(leaf), index, size, proof, good_root)
        assert not verify_inclusion(leaf, index, size, proof, flip(good_root))
        assert not verify_inclusion(leaf, size, size, proof, good_root)

        other_index = data.draw(st.integers(0, size - 1))
        if other_index != index:
            assert not verify_inclusion(leaf, other_index, size, proof, good_root)
            assert not verify_inclusion(hashes[other_index], index, size, proof, good_root)

        # A claim about another tree size, with that size's true root, holds only if
        # the proof is that size's proof.
        other_size = data.draw(st.integers(index + 1, size + 40))
        other_root = ref_mth(hashes[:other_size]) if other_size <= size else flip(good_root)
        genuine = list(tree.inclusion_proof(index, other_size)) if other_size <= size else None
        assert verify_inclusion(leaf, index, other_size, proof, other_root) == (genuine == proof)

    @settings(max_examples=150, deadline=None)
    @given(tree_and_positions(), st.data())
    def test_tampered_consistency_fails(
        self, case: tuple[list[bytes], int, int], data: st.DataObject
    ) -> None:
        hashes, _, old = case
        size = len(hashes)
        tree = HashTree(hashes)
        proof = list(tree.consistency_proof(old))
        old_root, new_root = tree.root(old), tree.root()
        assert verify_consistency(old, size, old_root, new_root, proof)
        if old == size:
            assert proof == []
            assert not verify_consistency(old, size, old_root, new_root, [new_root])
            assert not verify_consistency(old, size, flip(old_root), new_root, proof)
            return

        for position in range(len(proof)):
            changed = list(proof)
            changed[position] = flip(changed[position], data.draw(st.integers(0, 7)))
            assert not verify_consistency(old, size, old_root, new_root, changed)
        assert not verify_consistency(old, size, old_root, new_root, proof[:-1])
        assert not verify_consistency(old, size, old_root, new_root, proof[1:])
        assert not verify_consistency(old, size, old_root, new_root, [])
        for extra in (old_root, new_root, proof[0]):
            assert not verify_consistency(old, size, old_root, new_root, [*proof, extra])
            assert not verify_consistency(old, size, old_root, new_root, [extra, *proof])
        assert not verify_consistency(old, size, new_root, old_root, proof)
        assert not verify_consistency(old, size, flip(old_root), new_root, proof)
        assert not verify_consistency(old, size, old_root, flip(new_root), proof)
        assert not verify_consistency(size, old, new_root, old_root, proof)

        # Other sizes, with their true roots, verify only with their own proof.
        other_old = data.draw(st.integers(1, size))
        genuine = list(tree.consistency_proof(other_old))
        assert verify_consistency(other_old, size, tree.root(other_old), new_root, proof) == (
            genuine == proof
        )
        other_new = data.draw(st.integers(old, size))
        genuine = list(tree.consistency_proof(old, other_new))
        assert verify_consistency(old, other_new, old_root, tree.root(other_new), proof) == (
            genuine == proof
        )


class TestEdgeCases:
    SOME = sha(b"some hash")

    @pytest.mark.parametrize(
        ("old", "new", "old_root", "new_root", "proof", "expected"),
        [
            (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
            (0, 5, EMPTY_ROOT, SOME, [], True),
            (0, 5, SOME, SOME, [], False),
            (0, 5, EMPTY_ROOT, SOME, [SOME], False),
            (0, 0, EMPTY_ROOT, SOME, [], False),
            (1, 1, SOME, SOME, [], True),
            (1, 1, SOME, SOME, [SOME], False),
            (1, 1, SOME, EMPTY_ROOT, [], False),
            (2, 1, SOME, SOME, [], False),
            (1, 2, SOME, SOME, [], False),
            (-1, 2, SOME, SOME, [SOME], False),
            (True, 2, SOME, SOME, [SOME], False),
            (1, 2, SOME[:31], SOME, [SOME], False),
            (1, 2, SOME, SOME, [SOME[:31]], False),
            (1, 2, SOME, SOME, SOME, False),
        ],
    )
    def test_verify_consistency_table(
        self,
        old: int,
        new: int,
        old_root: bytes,
        new_root: bytes,
        proof: Any,
        expected: bool,
    ) -> None:
        assert verify_consistency(old, new, old_root, new_root, proof) is expected

    @pytest.mark.parametrize(
        ("index", "size", "leaf", "proof", "tree_root"),
        [
            (0, 0, SOME, [], SOME),
            (1, 1, SOME, [], SOME),
            (2, 1, SOME, [], SOME),
            (-1, 1, SOME, [], SOME),
            (0, 1, SOME[:31], [], SOME[:31]),
            (0, 1, SOME, [], b""),
            (0, 1, "not bytes", [], SOME),
            (0, 2, SOME, [SOME + b"x"], SOME),
            (0, 2, SOME, SOME, SOME),
        ],
    )
    def test_verify_inclusion_refuses(
        self, index: int, size: int, leaf: Any, proof: Any, tree_root: Any
    ) -> None:
        assert verify_inclusion(leaf, index, size, proof, tree_root) is False

    def test_single_entry(self) -> None:
        value = leaf_hash(b"data")
        assert verify_inclusion(value, 0, 1, [], value)
        assert inclusion_proof([value], 0, 1) == ()

    @pytest.mark.parametrize(
        ("call", "args"),
        [
            (inclusion_proof, (0, 0)),
            (inclusion_proof, (5, 5)),
            (inclusion_proof, (0, 9)),
            (inclusion_proof, (-1, 3)),
            (consistency_proof, (5, 3)),
            (consistency_proof, (1, 9)),
            (consistency_proof, (-1, 3)),
        ],
    )
    def test_bad_ranges(self, call: Any, args: tuple[int, int]) -> None:
        with pytest.raises(LogRangeError) as caught:
            call(leaf_hashes_for(8), *args)
        assert isinstance(caught.value, ValidationError)

    def test_bad_leaf_hashes(self) -> None:
        with pytest.raises(InvalidLogHashError):
            root([b"short"])
        with pytest.raises(InvalidLogHashError):
            HashTree().append(b"\x00" * 33)
        with pytest.raises(InvalidLogHashError):
            inclusion_proof([self.SOME, "00" * 32], 0, 2)  # type: ignore[list-item]

    def test_consistency_from_or_to_the_same_size_is_empty(self) -> None:
        hashes = leaf_hashes_for(5)
        assert consistency_proof(hashes, 0, 5) == ()
        assert consistency_proof(hashes, 5, 5) == ()
        assert consistency_proof(hashes, 0, 0) == ()

    def test_large_log_proofs_use_stored_subtrees(self) -> None:
        tree = HashTree(leaf_hashes_for(20_000))
        tree_root = tree.root()
        for index in (0, 12_345, 19_999):
            proof = tree.inclusion_proof(index)
            assert len(proof) == len(ref_path(index, [b""] * 20_000))
            assert verify_inclusion(tree.leaf_hash(index), index, 20_000, proof, tree_root)
        old_root = tree.root(16_385)
        proof = tree.consistency_proof(16_385)
        assert verify_consistency(16_385, 20_000, old_root, tree_root, proof)
