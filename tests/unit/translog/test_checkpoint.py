from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from notarium.core.errors import ProofVerificationError, ValidationError
from notarium.formats.signing import Ed25519RecordSigner
from notarium.formats.tlog.checkpoint import (
    Checkpoint,
    parse_checkpoint_body,
    parse_signed_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from notarium.formats.tlog.errors import (
    InvalidCheckpointError,
    MalformedCheckpointError,
    MalformedNoteError,
    NoteSignatureError,
    OriginMismatchError,
    UntrustedNoteError,
)
from notarium.formats.tlog.note import sign_note, verifier_key_text
from notarium.formats.tlog.tree import EMPTY_ROOT, leaf_hash

from .conftest import ORIGIN

ROOT = leaf_hash(b"root")
ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFF]) * 32).decode()


def key_of(signer: Ed25519RecordSigner) -> str:
    return verifier_key_text(signer.name, signer.public_key_raw)


class TestBody:
    def test_exact_text(self) -> None:
        checkpoint = Checkpoint(origin=ORIGIN, size=20852163, root=ROOT)
        assert checkpoint.body() == f"{ORIGIN}\n20852163\n{ROOT_B64}\n"

    def test_extensions(self) -> None:
        checkpoint = Checkpoint(origin=ORIGIN, size=0, root=EMPTY_ROOT, extensions=("a b", "c"))
        assert checkpoint.body() == (
            f"{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\na b\nc\n"
        )
        assert parse_checkpoint_body(checkpoint.body()) == checkpoint

    @pytest.mark.parametrize(
        "fields",
        [
            {"origin": ""},
            {"origin": "two\nlines"},
            {"origin": "tab\there"},
            {"origin": "\ud800"},
            {"size": -1},
            {"size": 2**64},
            {"size": True},
            {"size": "5"},
            {"root": ROOT[:31]},
            {"root": ROOT.hex()},
            {"extensions": ("",)},
            {"extensions": ("a\nb",)},
            {"extensions": ["list"]},
        ],
    )
    def test_invalid_values(self, fields: dict[str, Any]) -> None:
        values: dict[str, Any] = {"origin": ORIGIN, "size": 1, "root": ROOT, **fields}
        with pytest.raises(InvalidCheckpointError) as caught:
            Checkpoint(**values)
        assert isinstance(caught.value, ValidationError)

    def test_largest_size(self) -> None:
        checkpoint = Checkpoint(origin=ORIGIN, size=2**64 - 1, root=ROOT)
        assert parse_checkpoint_body(checkpoint.body()).size == 2**64 - 1

    @pytest.mark.parametrize(
        "text",
        [
            f"{ORIGIN}\n1\n{ROOT_B64}",
            f"{ORIGIN}\n1\n",
            f"\n1\n{ROOT_B64}\n",
            f"{ORIGIN}\n01\n{ROOT_B64}\n",
            f"{ORIGIN}\n+1\n{ROOT_B64}\n",
            f"{ORIGIN}\n1 \n{ROOT_B64}\n",
            f"{ORIGIN}\n\u0661\n{ROOT_B64}\n",
            f"{ORIGIN}\n-0\n{ROOT_B64}\n",
            f"{ORIGIN}\n18446744073709551616\n{ROOT_B64}\n",
            f"{ORIGIN}\n1\n{ROOT_B64[:-1]}\n",
            f"{ORIGIN}\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",
            f"{ORIGIN}\n1\n{URLSAFE_ROOT}\n",
            f"{ORIGIN}\n1\n{ROOT_B64[:-2]}B=\n",
            f"{ORIGIN}\n1\n{ROOT_B64}\n\n",
            f"{ORIGIN}\n1\n{ROOT_B64}\next\n\nmore\n",
        ],
    )
    def test_malformed_text(self, text: str) -> None:
        with pytest.raises(MalformedCheckpointError) as caught:
            parse_checkpoint_body(text)
        assert isinstance(caught.value, ProofVerificationError)


class TestSignAndVerify:
    @pytest.fixture
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(origin=ORIGIN, size=42, root=ROOT)

    def test_signed_note_shape(self, checkpoint: Checkpoint, signer: Ed25519RecordSigner) -> None:
        signed = sign_checkpoint(checkpoint, signer)
        body, signature_line = signed.split("\n\n")
        assert body + "\n" == checkpoint.body()
        assert signature_line.startswith(f"\u2014 {signer.name} ")
        assert signed.endswith("\n")
        blob = base64.b64decode(signature_line.split(" ")[2])
        assert blob[:4].hex() == signer.key_id and len(blob) == 68

    def test_round_trip(self, checkpoint: Checkpoint, signer: Ed25519RecordSigner) -> None:
        signed = sign_checkpoint(checkpoint, signer)
        assert verify_checkpoint(signed, key_of(signer)) == checkpoint
        assert verify_checkpoint(signed, key_of(signer), origin=ORIGIN) == checkpoint
        parsed, signatures = parse_signed_checkpoint(signed)
        assert parsed == checkpoint
        assert [s.name for s in signatures] == [signer.name]

    def test_witness_cosignature_is_ignored(
        self,
        checkpoint: Checkpoint,
        signer: Ed25519RecordSigner,
        other_signer: Ed25519RecordSigner,
    ) -> None:
        signed = sign_checkpoint(checkpoint, signer)
        cosignature = sign_checkpoint(checkpoint, other_signer).split("\n\n")[1]
        assert verify_checkpoint(signed + cosignature, key_of(signer)) == checkpoint

    def test_origin_mismatch(self, checkpoint: Checkpoint, signer: Ed25519RecordSigner) -> None:
        signed = sign_checkpoint(checkpoint, signer)
        with pytest.raises(OriginMismatchError):
            verify_checkpoint(signed, key_of(signer), origin="notary.example/other")

    def test_wrong_key(
        self,
        checkpoint: Checkpoint,
        signer: Ed25519RecordSigner,
        other_signer: Ed25519RecordSigner,
    ) -> None:
        signed = sign_checkpoint(checkpoint, signer)
        with pytest.raises(UntrustedNoteError):
            verify_checkpoint(signed, key_of(other_signer))

    @pytest.mark.parametrize(
        ("mangle", "error"),
        [
            (lambda s: s.replace("\n42\n", "\n43\n"), NoteSignatureError),
            (lambda s: s.replace("\n42\n", "\n042\n"), MalformedCheckpointError),
            (lambda s: s[:-1], MalformedNoteError),
            (lambda s: s.replace(ORIGIN + "\n", ORIGIN + "x\n", 1), NoteSignatureError),
        ],
    )
    def test_tampering(
        self,
        checkpoint: Checkpoint,
        signer: Ed25519RecordSigner,
        mangle: Callable[[str], str],
        error: type[Exception],
    ) -> None:
        signed = sign_checkpoint(checkpoint, signer)
        with pytest.raises(error):
            verify_checkpoint(mangle(signed), key_of(signer))

    def test_signed_non_checkpoint_is_malformed(self, signer: Ed25519RecordSigner) -> None:
        signed = sign_note("just\ntwo lines\n", signer)
        with pytest.raises(MalformedCheckpointError):
            verify_checkpoint(signed, key_of(signer))

    def test_c2sp_example_parses(self) -> None:
        # The example of c2sp.org/tlog-checkpoint (its key is not published).
        text = (
            "example.com/behind-the-sofa\n20852163\n"
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
            "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeO"
            "oRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
        )
        checkpoint, signatures = parse_signed_checkpoint(text)
        assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
        assert signatures[0].key_id.hex() == "033de0ae"
        assert len(signatures[0].signature) == 64
