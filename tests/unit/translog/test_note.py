from __future__ import annotations

import base64

import pytest

from notarium.core.errors import ProofVerificationError, ValidationError
from notarium.formats.signing import Ed25519RecordSigner, signed_note_key_id
from notarium.formats.tlog.errors import (
    InvalidCheckpointError,
    InvalidVerifierKeyError,
    MalformedNoteError,
    NoteSignatureError,
    UntrustedNoteError,
)
from notarium.formats.tlog.note import (
    decode_canonical_base64,
    open_note,
    parse_note,
    parse_verifier_key,
    sign_note,
    verifier_key_text,
)

from .conftest import go_note_signer, go_private_key, load_vectors

GO = load_vectors("signed_note.json")
TEXT = "first line\nsecond line\n"


class TestGoReferenceNote:
    """golang.org/x/mod/sumdb/note's example, reproduced byte for byte."""

    def test_key_id_and_verifier_key_match(self) -> None:
        signer = go_note_signer(GO["private_key"])
        assert signer.key_id == GO["key_id"]
        assert signed_note_key_id(GO["name"], signer.public_key_raw) == GO["key_id"]
        assert verifier_key_text(signer.name, signer.public_key_raw) == GO["verifier_key"]

    def test_signing_reproduces_the_note(self) -> None:
        assert sign_note(GO["text"], go_note_signer(GO["private_key"])) == GO["note"]

    def test_opening_the_note(self) -> None:
        assert open_note(GO["note"], GO["verifier_key"]) == GO["text"]
        with pytest.raises(NoteSignatureError):
            open_note(GO["note"].replace("cryptography", "cryptographY"), GO["verifier_key"])

    def test_verifier_key_parses(self) -> None:
        key = parse_verifier_key(GO["verifier_key"])
        assert key.name == "PeterNeumann"
        assert key.key_id.hex() == "c74f20a3"
        assert len(key.public_key) == 32


class TestVerifierKeys:
    @pytest.mark.parametrize(
        "text",
        [
            "",
            "PeterNeumann",
            "PeterNeumann+c74f20a3",
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumanm+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",
            "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        ],
    )
    def test_rejects(self, text: str) -> None:
        with pytest.raises(InvalidVerifierKeyError) as caught:
            parse_verifier_key(text)
        assert isinstance(caught.value, ValidationError)

    def test_key_with_plus_in_its_base64(self, signer: Ed25519RecordSigner) -> None:
        # The separator is the first two '+': base64 may carry more of them.
        for attempt in range(200):
            raw = bytes([attempt]) * 32
            text = verifier_key_text("plus.example", raw)
            if "+" in text.split("+", 2)[2]:
                assert parse_verifier_key(text).public_key == raw
                break
        else:
            pytest.fail("no key with '+' in its base64 among the candidates")

    def test_round_trip(self, signer: Ed25519RecordSigner) -> None:
        text = verifier_key_text(signer.name, signer.public_key_raw)
        key = parse_verifier_key(text)
        assert (key.name, key.key_id.hex(), key.public_key) == (
            signer.name,
            signer.key_id,
            signer.public_key_raw,
        )

    @pytest.mark.parametrize(("name", "raw"), [("", bytes(32)), ("a+b", bytes(32)), ("a", b"1")])
    def test_text_refuses_bad_input(self, name: str, raw: bytes) -> None:
        with pytest.raises(InvalidVerifierKeyError):
            verifier_key_text(name, raw)


class TestSignAndOpen:
    def test_shape(self, signer: Ed25519RecordSigner) -> None:
        note = sign_note(TEXT, signer)
        text, rest = note.split("\n\n")
        assert text + "\n" == TEXT
        assert rest.startswith(f"\u2014 {signer.name} ")
        assert rest.endswith("\n") and rest.count("\n") == 1
        blob = base64.b64decode(rest.split(" ")[-1])
        assert blob[:4].hex() == signer.key_id
        assert len(blob) == 68

    def test_unknown_signatures_are_ignored(
        self, signer: Ed25519RecordSigner, other_signer: Ed25519RecordSigner
    ) -> None:
        note = sign_note(TEXT, signer)
        cosigned = note + sign_note(TEXT, other_signer).split("\n\n")[1]
        key = verifier_key_text(signer.name, signer.public_key_raw)
        other_key = verifier_key_text(other_signer.name, other_signer.public_key_raw)
        assert open_note(cosigned, key) == TEXT
        assert open_note(cosigned, other_key) == TEXT
        assert len(parse_note(cosigned)[1]) == 2

    def test_other_key_is_untrusted(
        self, signer: Ed25519RecordSigner, other_signer: Ed25519RecordSigner
    ) -> None:
        note = sign_note(TEXT, signer)
        other_key = verifier_key_text(other_signer.name, other_signer.public_key_raw)
        with pytest.raises(UntrustedNoteError) as caught:
            open_note(note, other_key)
        assert isinstance(caught.value, ProofVerificationError)

    def test_same_name_other_key_id_is_untrusted(self, signer: Ed25519RecordSigner) -> None:
        impostor = Ed25519RecordSigner(go_private_key(GO["private_key"])[1], signer.name)
        note = sign_note(TEXT, impostor)
        with pytest.raises(UntrustedNoteError, match="key ids seen"):
            open_note(note, verifier_key_text(signer.name, signer.public_key_raw))

    def test_forged_signature_with_the_right_key_id(self, signer: Ed25519RecordSigner) -> None:
        note = sign_note(TEXT, signer)
        text, line = note.split("\n\n")
        prefix, encoded = line[:-1].rsplit(" ", 1)
        blob = bytearray(base64.b64decode(encoded))
        blob[10] ^= 1
        forged = f"{text}\n\n{prefix} {base64.b64encode(bytes(blob)).decode()}\n"
        with pytest.raises(NoteSignatureError):
            open_note(forged, verifier_key_text(signer.name, signer.public_key_raw))

    def test_text_may_hold_blank_lines(self, signer: Ed25519RecordSigner) -> None:
        text = "a\n\nb\n"
        note = sign_note(text, signer)
        assert open_note(note, verifier_key_text(signer.name, signer.public_key_raw)) == text

    @pytest.mark.parametrize("text", ["", "no newline", "tab\there\n", "cr\r\n", "\ud800\n"])
    def test_refuses_unsignable_text(self, signer: Ed25519RecordSigner, text: str) -> None:
        with pytest.raises(InvalidCheckpointError):
            sign_note(text, signer)

    def test_refuses_a_signer_with_a_wrong_key_id(self, signer: Ed25519RecordSigner) -> None:
        class Lying:
            name = signer.name
            key_id = "00000000"
            public_key_raw = signer.public_key_raw

            def sign(self, data: bytes) -> bytes:
                return signer.sign(data)

        with pytest.raises(InvalidVerifierKeyError):
            sign_note(TEXT, Lying())


class TestParseNote:
    @pytest.fixture
    def note(self, signer: Ed25519RecordSigner) -> str:
        return sign_note(TEXT, signer)

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda n: n[:-1],
            lambda n: n.replace("\n\n", "\n"),
            lambda n: n + "\n",
            lambda n: n.replace("\u2014", "-"),
            lambda n: n.replace("\u2014 ", "\u2014"),
            lambda n: n.replace("\u2014 ", "\u2014  "),
            lambda n: n.replace("first", "fi\x01rst"),
            lambda n: n.replace("\n\n", "\n\r\n"),
            lambda n: n[:-2] + "\n",
            lambda n: n[:-1] + "A\n",
            lambda n: n[:-1] + " \n",
            lambda n: n.split("\n\n")[0] + "\n\n",
            lambda n: n.split("\n\n")[0] + "\n\n\u2014 name AAAA\n",
            lambda n: n + n.split("\n\n")[1] * 100,
            lambda n: n.replace("first", "\udcff"),
        ],
    )
    def test_malformed(self, note: str, mangle: object) -> None:
        mangled = mangle(note)  # type: ignore[operator]
        with pytest.raises(MalformedNoteError):
            parse_note(mangled)

    def test_accepts_many_signatures_up_to_the_cap(self, note: str) -> None:
        line = note.split("\n\n")[1]
        text, signatures = parse_note(note + line * 15)
        assert text == TEXT
        assert len(signatures) == 16


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", b""),
        ("AA==", b"\x00"),
        ("AAE=", b"\x00\x01"),
        ("AB==", None),
        ("AA", None),
        ("AA=", None),
        ("A A=", None),
        ("AA==\n", None),
        ("-_8=", None),
        ("\u00e9A==", None),
    ],
)
def test_canonical_base64(text: str, expected: bytes | None) -> None:
    assert decode_canonical_base64(text) == expected
