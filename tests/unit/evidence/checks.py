"""The command-line checks an evidence package must pass, shared by the packaging tests
and the end-to-end capture tests."""

from __future__ import annotations

import subprocess
from pathlib import Path


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def openssl_manifest_signature(unpacked: Path) -> subprocess.CompletedProcess[str]:
    """``openssl pkeyutl -verify`` of manifest.sig over manifest.json, in an unpacked
    evidence package."""
    return run(
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        "keys/ed25519.pub.pem",
        "-rawin",
        "-in",
        "manifest.json",
        "-sigfile",
        "manifest.sig",
        cwd=unpacked,
    )


def openssl_manifest_token(unpacked: Path) -> subprocess.CompletedProcess[str]:
    """``openssl ts -verify`` of manifest.tsr over manifest.json, in an unpacked evidence
    package, trusting its packaged CA."""
    return run(
        "openssl",
        "ts",
        "-verify",
        "-data",
        "manifest.json",
        "-in",
        "manifest.tsr",
        "-CAfile",
        "keys/ca.cert.pem",
        "-untrusted",
        "keys/tsa-chain.pem",
        cwd=unpacked,
    )
