"""Helpers shared by the TSA tests: the real OpenSSL CLI and response parsing."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import cms, tsp

from notarium.formats.rfc3161.asn1 import TimeStampResp

OPENSSL = "/usr/bin/openssl"
POLICY = "1.3.6.1.4.1.99999.1.1"
OTHER_POLICY = "1.3.6.1.4.1.99999.1.2"
ACCURACY_MS = 1500
# Frozen a few minutes in the past (OpenSSL checks the certificates at the real current
# time) with sub-millisecond digits that the TSA must drop.
FROZEN_AT = (datetime.now(UTC) - timedelta(minutes=2)).replace(microsecond=123456)


@dataclass(frozen=True)
class PkiFiles:
    ca: Path
    tsa: Path
    chain: Path


@dataclass(frozen=True)
class OpenSSLResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def verified(self) -> bool:
        return self.returncode == 0 and "Verification: OK" in self.stdout


class OpenSSLTs:
    """Thin wrapper around ``openssl ts`` working inside one temporary directory."""

    def __init__(self, workdir: Path, files: PkiFiles) -> None:
        self.workdir = workdir
        self.files = files
        self._counter = 0

    def path(self, stem: str) -> Path:
        self._counter += 1
        return self.workdir / f"{self._counter:04d}-{stem}"

    def run(self, *args: str) -> OpenSSLResult:
        completed = subprocess.run(
            [OPENSSL, "ts", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        return OpenSSLResult(completed.returncode, completed.stdout, completed.stderr)

    def write_data(self, content: bytes) -> Path:
        data = self.path("data.bin")
        data.write_bytes(content)
        return data

    def query(
        self,
        data: Path,
        *,
        algorithm: str = "sha256",
        cert: bool = True,
        nonce: bool = True,
        policy: str | None = None,
    ) -> Path:
        out = self.path("req.tsq")
        args = ["-query", "-data", str(data), f"-{algorithm}", "-out", str(out)]
        if cert:
            args.append("-cert")
        if not nonce:
            args.append("-no_nonce")
        if policy is not None:
            args += ["-tspolicy", policy]
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return out

    def save(self, reply: bytes, stem: str = "reply.tsr") -> Path:
        out = self.path(stem)
        out.write_bytes(reply)
        return out

    def verify(
        self,
        reply: Path,
        *,
        queryfile: Path | None = None,
        data: Path | None = None,
        token_in: bool = False,
        untrusted: bool = False,
    ) -> OpenSSLResult:
        args = ["-verify", "-in", str(reply), "-CAfile", str(self.files.ca)]
        if token_in:
            args.append("-token_in")
        if queryfile is not None:
            args += ["-queryfile", str(queryfile)]
        if data is not None:
            args += ["-data", str(data)]
        if untrusted:
            args += ["-untrusted", str(self.files.tsa)]
        return self.run(*args)

    def reply_text(self, reply: Path, *, token_in: bool = False) -> str:
        args = ["-reply", "-in", str(reply), "-text"]
        if token_in:
            args.append("-token_in")
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout


def parse_response(der: bytes, *, full: bool = False) -> TimeStampResp:
    """Load a response; ``full`` walks every value, certificates included, which is
    thorough but slow enough to matter in loops."""
    response: TimeStampResp = TimeStampResp.load(der, strict=True)
    response["status"].native  # noqa: B018 - the status must always decode
    if full:
        response.native  # noqa: B018
    return response


def token_of(response: TimeStampResp) -> cms.ContentInfo:
    token = response["time_stamp_token"]
    assert isinstance(token, cms.ContentInfo)
    return token


def tst_info_of(token: cms.ContentInfo) -> tsp.TSTInfo:
    content = token["content"]["encap_content_info"]["content"].parsed
    assert isinstance(content, tsp.TSTInfo)
    return content
