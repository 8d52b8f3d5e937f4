"""Compare building an anchoring batch tree with a bare hashlib.sha256 loop.

Run with ``.venv/bin/python bench/merkle_build.py [--leaves 1000000] [--rounds 5]``.

``build_batch`` hashes every leaf (``sha256(digest || nonce)``) and every interior
node and keeps every level, which holds every leaf's path: ``Batch.proof(i)`` reads
leaf ``i``'s path off the levels in O(log n). The time to turn all paths into Python
objects at once (``Batch.proofs``) is printed too, outside the ratio. The baseline is
a plain Python loop calling ``hashlib.sha256(message).digest()`` exactly as many times
as the tree needs hash operations (leaves plus interior nodes; promoted nodes are not
hashed), over messages of the same sizes (48 bytes per leaf, 64 per interior node).
Both run in this process on one core, alternating, and the best round of each counts,
so the ratio says how much the tree adds on top of the hashing it cannot avoid.

**Target:** baseline time ÷ build time **≥ 0.50**.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import resource
import sys
import time

from notarium.formats.merkle import build_batch, root_from_proof

TARGET_RATIO = 0.50


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity on this platform)"


def interior_node_count(leaves: int) -> int:
    """Hash operations above the leaves under the promote-the-odd-node rule."""
    count = 0
    width = leaves
    while width > 1:
        count += width // 2
        width = (width + 1) // 2
    return count


def bare_loop(messages: list[bytes]) -> None:
    sha256 = hashlib.sha256
    for message in messages:
        sha256(message).digest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; best counts")
    args = parser.parse_args()

    pinning = pin_to_one_core()
    leaves = args.leaves
    interior = interior_node_count(leaves)
    operations = leaves + interior
    digests = [os.urandom(32) for _ in range(leaves)]
    # Distinct messages of the sizes the tree hashes, so neither side gets a cache-hot
    # constant input the other does not.
    messages = [os.urandom(48) for _ in range(leaves)] + [os.urandom(64) for _ in range(interior)]

    best_build = best_bare = best_objects = float("inf")
    for _ in range(args.rounds):
        gc.collect()
        started = time.perf_counter()
        batch = build_batch(digests)
        best_build = min(best_build, time.perf_counter() - started)
        # Every path is in the levels; spot-check that they lead to the root.
        for index in (0, leaves // 3, leaves - 1):
            if root_from_proof(batch.proof(index)) != batch.root:
                print("build_batch produced a path that does not reach its root")
                return 2
        # Reported, not part of the target: turning every path into Python objects, as
        # a caller storing all of them does.
        started = time.perf_counter()
        materialised = len(batch.proofs)
        best_objects = min(best_objects, time.perf_counter() - started)
        if materialised != leaves:
            return 2
        del batch
        gc.collect()

        started = time.perf_counter()
        bare_loop(messages)
        best_bare = min(best_bare, time.perf_counter() - started)

    build_rate = operations / best_build
    bare_rate = operations / best_bare
    ratio = best_bare / best_build
    print(f"python {sys.version.split()[0]}, {pinning}")
    print(f"{leaves} leaves, {interior} interior nodes: {operations} hash operations")
    print(f"bare hashlib.sha256 loop:       {best_bare:7.3f} s  {bare_rate:12,.0f} hashes/s")
    print(
        f"build_batch (tree; every path in its levels): {best_build:7.3f} s  "
        f"{build_rate:12,.0f} hashes/s"
    )
    print(f"materialising all {leaves} path objects (not in the ratio): {best_objects:7.3f} s")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak_mib:.0f} MiB")
    print(f"ratio bare/build: {ratio:.3f} (target >= {TARGET_RATIO})")
    verdict = "MET" if ratio >= TARGET_RATIO else "NOT MET"
    print(f"target {verdict}")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
