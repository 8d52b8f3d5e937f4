from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from notarium.core.errors import ProofVerificationError, ValidationError
from notarium.formats.signing import Ed25519RecordSigner
from notarium.formats.tlog.errors import (
    InclusionProofError,
    InvalidCheckpointError,
    LogRangeError,
    MalformedTlogProofError,
    NoteSignatureError,
    OriginMismatchError,
    UntrustedNoteError,
)
from notarium.formats.tlog.memory import MemoryLog
from notarium.formats.tlog.note import verifier_key_text
from notarium.formats.tlog.tlogproof import (
    TLOG_PROOF_HEADER,
    format_tlog_proof,
    parse_tlog_proof,
    verify_tlog_proof,
)
from notarium.formats.tlog.tree import verify_consistency, verify_inclusion

from .conftest import ORIGIN


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@pytest.fixture
def log() -> MemoryLog:
    log = MemoryLog(ORIGIN)
    for number in range(13):
        log.append(b"entry %d" % number)
    return log


@pytest.fixture
def key(signer: Ed25519RecordSigner) -> str:
    return verifier_key_text(signer.name, signer.public_key_raw)


class TestFormat:
    def test_exact_text(self, log: MemoryLog, signer: Ed25519RecordSigner) -> None:
        signed = log.signed_checkpoint(signer)
        hashes = log.inclusion_proof(5)
        text = format_tlog_proof(5, hashes, signed)
        expected = (
            f"{TLOG_PROOF_HEADER}\nindex 5\n"
            + "".join(f"{b64(value)}\n" for value in hashes)
            + "\n"
            + signed
        )
        assert text == expected

    def test_extra_line(self, log: MemoryLog, signer: Ed25519RecordSigner) -> None:
        signed = log.signed_checkpoint(signer)
        text = format_tlog_proof(0, log.inclusion_proof(0), signed, extra=b"context")
        assert text.startswith(f"{TLOG_PROOF_HEADER}\nextra {b64(b'context')}\nindex 0\n")
        assert parse_tlog_proof(text).extra == b"context"
        empty_extra = format_tlog_proof(0, log.inclusion_proof(0), signed, extra=b"")
        assert parse_tlog_proof(empty_extra).extra == b""

    def test_single_entry_log_has_no_hash_lines(self, signer: Ed25519RecordSigner) -> None:
        log = MemoryLog(ORIGIN)
        log.append(b"only")
        text = log.tlog_proof(0, signer)
        assert text.startswith(f"{TLOG_PROOF_HEADER}\nindex 0\n\n{ORIGIN}\n1\n")
        parsed = parse_tlog_proof(text)
        assert parsed.hashes == ()
        assert parsed.extra is None

    @pytest.mark.parametrize(
        ("index", "hashes", "extra"),
        [
            (-1, (), None),
            (True, (), None),
            (13, (), None),
            (0, (b"short",), None),
            (0, (bytes(32),) * 65, None),
            (0, (), "text"),
        ],
    )
    def test_refuses_bad_input(
        self,
        log: MemoryLog,
        signer: Ed25519RecordSigner,
        index: int,
        hashes: tuple[bytes, ...],
        extra: bytes | None,
    ) -> None:
        with pytest.raises(InvalidCheckpointError) as caught:
            format_tlog_proof(index, hashes, log.signed_checkpoint(signer), extra)
        assert isinstance(caught.value, ValidationError)

    def test_refuses_something_else_than_a_signed_checkpoint(self) -> None:
        with pytest.raises(InvalidCheckpointError):
            format_tlog_proof(0, (), f"{ORIGIN}\n1\n{b64(bytes(32))}\n")


class TestVerify:
    def test_every_entry(self, log: MemoryLog, signer: Ed25519RecordSigner, key: str) -> None:
        for index in range(log.size):
            text = log.tlog_proof(index, signer)
            checkpoint = verify_tlog_proof(text, log.entry(index), key, origin=ORIGIN)
            assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (
                ORIGIN,
                13,
                log.root(),
            )

    def test_past_size(self, log: MemoryLog, signer: Ed25519RecordSigner, key: str) -> None:
        text = log.tlog_proof(2, signer, size=7)
        assert verify_tlog_proof(text, b"entry 2", key).size == 7

    def test_wrong_entry(self, log: MemoryLog, signer: Ed25519RecordSigner, key: str) -> None:
        text = log.tlog_proof(4, signer)
        with pytest.raises(InclusionProofError) as caught:
            verify_tlog_proof(text, b"entry 5", key)
        assert isinstance(caught.value, ProofVerificationError)

    def test_wrong_origin(self, log: MemoryLog, signer: Ed25519RecordSigner, key: str) -> None:
        with pytest.raises(OriginMismatchError):
            verify_tlog_proof(log.tlog_proof(4, signer), b"entry 4", key, origin="other.example")

    def test_wrong_key(
        self, log: MemoryLog, signer: Ed25519RecordSigner, other_signer: Ed25519RecordSigner
    ) -> None:
        other_key = verifier_key_text(other_signer.name, other_signer.public_key_raw)
        with pytest.raises(UntrustedNoteError):
            verify_tlog_proof(log.tlog_proof(4, signer), b"entry 4", other_key)

    @pytest.mark.parametrize(
        ("mangle", "error"),
        [
            (lambda t: t.replace("index 4\n", "index 5\n"), InclusionProofError),
            (lambda t: t.replace("index 4\n", "index 12\n"), InclusionProofError),
            (lambda t: t.replace("index 4\n", "index 13\n"), InclusionProofError),
            (lambda t: t.replace("index 4\n", "index 04\n"), MalformedTlogProofError),
            (lambda t: t.replace("index 4\n", "index  4\n"), MalformedTlogProofError),
            (lambda t: t.replace("index 4\n", "Index 4\n"), MalformedTlogProofError),
            (lambda t: t.replace("index 4\n", ""), MalformedTlogProofError),
            (
                lambda t: t.replace(TLOG_PROOF_HEADER, "c2sp.org/tlog-proof@v2"),
                MalformedTlogProofError,
            ),
            (lambda t: "\n" + t, MalformedTlogProofError),
            (lambda t: t.replace("\n\n", "\n", 1), MalformedTlogProofError),
            (lambda t: t.replace("=\n", "\n", 1), MalformedTlogProofError),
            (lambda t: t.replace("=\n", "=\n\n", 1), MalformedTlogProofError),
            (lambda t: t.replace("index 4\n", "index 4\nAAAA\n"), MalformedTlogProofError),
            (lambda t: t.replace("index 4\n", "extra !!\nindex 4\n"), MalformedTlogProofError),
            (lambda t: t.replace("index 4\n", "index 4\r\n"), MalformedTlogProofError),
            (lambda t: t.split("\n\n")[0], MalformedTlogProofError),
            (lambda t: t[:-1], MalformedTlogProofError),
            (lambda t: t.replace("\n13\n", "\n14\n"), NoteSignatureError),
        ],
    )
    def test_tampering(
        self,
        log: MemoryLog,
        signer: Ed25519RecordSigner,
        key: str,
        mangle: Callable[[str], str],
        error: type[Exception],
    ) -> None:
        text = log.tlog_proof(4, signer)
        with pytest.raises(error):
            verify_tlog_proof(mangle(text), b"entry 4", key)

    def test_changed_hash(self, log: MemoryLog, signer: Ed25519RecordSigner, key: str) -> None:
        text = log.tlog_proof(4, signer)
        parsed = parse_tlog_proof(text)
        for position, value in enumerate(parsed.hashes):
            hashes = list(parsed.hashes)
            hashes[position] = bytes([value[0] ^ 1]) + value[1:]
            forged = format_tlog_proof(4, hashes, parsed.checkpoint)
            with pytest.raises(InclusionProofError):
                verify_tlog_proof(forged, b"entry 4", key)
        truncated = format_tlog_proof(4, parsed.hashes[:-1], parsed.checkpoint)
        with pytest.raises(InclusionProofError):
            verify_tlog_proof(truncated, b"entry 4", key)

    def test_c2sp_example_parses(self) -> None:
        # The example of c2sp.org/tlog-proof, with whole signatures in place of its "[...]".
        signature = b64(bytes(68))
        text = (
            "c2sp.org/tlog-proof@v1\n"
            "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\n"
            "index 73894\n"
            "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
            "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
            "\n"
            "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n"
            f"\u2014 example.com/fancylog {signature}\n"
            f"\u2014 witness1.example {signature}\n"
        )
        parsed = parse_tlog_proof(text)
        assert parsed.index == 73894
        assert parsed.extra == b"age-v1.2.1-darwin-arm64.tar.gz"
        assert len(parsed.hashes) == 2
        assert parsed.checkpoint.startswith("example.com/fancylog\n109482\n")


class TestMemoryLog:
    def test_entries_and_proofs(self, log: MemoryLog) -> None:
        assert log.size == 13
        assert log.entry(3) == b"entry 3"
        for old in range(0, 14):
            assert verify_consistency(
                old, 13, log.root(old), log.root(), log.consistency_proof(old)
            )
        for index in range(13):
            assert verify_inclusion(
                log.leaf_hash(index), index, 13, log.inclusion_proof(index), log.root()
            )

    def test_checkpoint(self, log: MemoryLog) -> None:
        checkpoint = log.checkpoint()
        assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (ORIGIN, 13, log.root())
        assert log.checkpoint(size=0).size == 0

    def test_ranges(self, log: MemoryLog) -> None:
        with pytest.raises(LogRangeError):
            log.entry(13)
        with pytest.raises(LogRangeError):
            log.inclusion_proof(3, size=3)
        with pytest.raises(LogRangeError):
            log.consistency_proof(5, 14)
        with pytest.raises(LogRangeError):
            log.checkpoint(size=14)
        with pytest.raises(LogRangeError):
            log.append("text")  # type: ignore[arg-type]

    def test_origin_is_validated(self) -> None:
        with pytest.raises(InvalidCheckpointError):
            MemoryLog("two\nlines")
