"""C2SP signed notes (``c2sp.org/signed-note``) with Ed25519 keys.

A signed note is::

    <text, one or more lines, each ending in "\\n">
    <blank line>
    — <key name> <base64(4-byte key id || signature)>\\n      (one or more)

The signature covers the text bytes (UTF-8) including its final newline, not the blank
line. The whole note must be UTF-8 without control characters other than newline; the
text ends at the *last* blank line. Key ids and names are those of
``notarium.formats.signing`` (``SHA-256(name || 0x0A || 0x01 || public key)[:4]``), so
the service's record-signing key signs notes under the same id.

Verifier keys are written ``<name>+<8 hex key id>+<base64(0x01 || 32-byte key)>``.

Verification follows the note specification: signatures whose (name, key id) is not
the trusted key's are ignored; one that is must verify, or the note is rejected; a
note with no verified signature by the trusted key is rejected.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Final

from notarium.formats.signing import (
    ED25519_PUBLIC_KEY_SIZE,
    ED25519_SIGNATURE_SIZE,
    ED25519_SIGNATURE_TYPE,
    InvalidKeyNameError,
    RecordSigner,
    signed_note_key_id,
    validate_key_name,
    verify_ed25519,
)
from notarium.formats.tlog.errors import (
    InvalidCheckpointError,
    InvalidVerifierKeyError,
    MalformedNoteError,
    NoteSignatureError,
    UntrustedNoteError,
)

SIGNATURE_PREFIX: Final = "\u2014 "
KEY_ID_SIZE: Final = 4
# The specification asks verifiers to accept at least 16; witnessed checkpoints carry a
# handful. The cap keeps a hostile note from costing unbounded work.
MAX_SIGNATURES: Final = 100

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class NoteSignature:
    """One signature line, not yet verified."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class VerifierKey:
    """A trusted Ed25519 note key."""

    name: str
    key_id: bytes
    public_key: bytes


def decode_canonical_base64(text: str) -> bytes | None:
    """Standard padded base64 that re-encodes to exactly ``text``, else None.

    Only the canonical spelling is accepted so that one value has one text form: a
    proof or checkpoint cannot be re-spelled (padding bits, missing padding, line
    breaks) and still pass for the original.
    """
    try:
        decoded = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if base64.b64encode(decoded).decode("ascii") != text:
        return None
    return decoded


def is_utf8_text(text: str) -> bool:
    """False for strings with lone surrogates, which no UTF-8 note can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _valid_name(name: str) -> bool:
    try:
        validate_key_name(name)
    except InvalidKeyNameError:
        return False
    return is_utf8_text(name)


def verifier_key_text(name: str, public_key_raw: bytes) -> str:
    """The verifier key text for an Ed25519 public key under ``name``."""
    if not _valid_name(name):
        raise InvalidVerifierKeyError(f"key name {name!r} is empty or has spaces or '+'")
    if not isinstance(public_key_raw, bytes) or len(public_key_raw) != ED25519_PUBLIC_KEY_SIZE:
        raise InvalidVerifierKeyError(f"an Ed25519 public key is {ED25519_PUBLIC_KEY_SIZE} bytes")
    key_id = signed_note_key_id(name, public_key_raw)
    encoded = base64.b64encode(bytes([ED25519_SIGNATURE_TYPE]) + public_key_raw).decode("ascii")
    return f"{name}+{key_id}+{encoded}"


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse verifier key text; the key id must be the one the name and key imply."""
    if not isinstance(text, str):
        raise InvalidVerifierKeyError("verifier key must be text")
    # The name cannot contain '+', the base64 key can: split at the first two only.
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise InvalidVerifierKeyError("verifier key must be name+keyid+key")
    name, key_id_hex, encoded = parts
    if not _valid_name(name):
        raise InvalidVerifierKeyError(f"key name {name!r} is empty or has spaces or '+'")
    if not _KEY_ID_HEX.fullmatch(key_id_hex):
        raise InvalidVerifierKeyError("key id must be 8 lowercase hex characters")
    material = decode_canonical_base64(encoded)
    if material is None or len(material) != 1 + ED25519_PUBLIC_KEY_SIZE:
        raise InvalidVerifierKeyError("key must be base64 of a type byte and 32-byte key")
    if material[0] != ED25519_SIGNATURE_TYPE:
        raise InvalidVerifierKeyError(f"unsupported key type 0x{material[0]:02x}")
    public_key = material[1:]
    if signed_note_key_id(name, public_key) != key_id_hex:
        raise InvalidVerifierKeyError("key id does not match the key name and public key")
    return VerifierKey(name=name, key_id=bytes.fromhex(key_id_hex), public_key=public_key)


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise InvalidCheckpointError("note text must be non-empty and end with a newline")
    if _CONTROL.search(text) or not is_utf8_text(text):
        raise InvalidCheckpointError("note text must be UTF-8 without control characters")


def sign_note(text: str, signer: RecordSigner) -> str:
    """Sign ``text`` (ending in a newline) and return the signed note."""
    _check_text(text)
    name = signer.name
    if not _valid_name(name):
        raise InvalidVerifierKeyError(f"key name {name!r} is empty or has spaces or '+'")
    key_id = signer.key_id
    if key_id != signed_note_key_id(name, signer.public_key_raw):
        # An HSM-backed signer reports its id; a wrong one would make every note
        # unverifiable, so catch it here rather than at every verifier.
        raise InvalidVerifierKeyError(f"signer {name!r} reports a key id its key does not have")
    signature = signer.sign(text.encode("utf-8"))
    if len(signature) != ED25519_SIGNATURE_SIZE:
        raise InvalidVerifierKeyError("signer returned a signature that is not Ed25519")
    encoded = base64.b64encode(bytes.fromhex(key_id) + signature).decode("ascii")
    return f"{text}\n{SIGNATURE_PREFIX}{name} {encoded}\n"


def parse_note(note: str) -> tuple[str, tuple[NoteSignature, ...]]:
    """Split a signed note into its text and signature lines, without verifying."""
    if not isinstance(note, str):
        raise MalformedNoteError("a signed note is text")
    if _CONTROL.search(note) or not is_utf8_text(note):
        raise MalformedNoteError("signed note is not UTF-8 text without control characters")
    if not note.endswith("\n"):
        raise MalformedNoteError("signed note does not end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("signed note has no blank line before its signatures")
    text, signature_block = note[: split + 1], note[split + 2 :]
    lines = signature_block[:-1].split("\n") if signature_block else []
    if not lines:
        raise MalformedNoteError("signed note has no signatures")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"signed note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise MalformedNoteError(f"signature line {number} does not start with an em dash")
        name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not space or not _valid_name(name):
            raise MalformedNoteError(f"signature line {number} has no valid key name")
        blob = decode_canonical_base64(encoded)
        if blob is None or len(blob) <= KEY_ID_SIZE:
            raise MalformedNoteError(f"signature line {number} is not canonical base64")
        signatures.append(
            NoteSignature(name=name, key_id=blob[:KEY_ID_SIZE], signature=blob[KEY_ID_SIZE:])
        )
    return text, tuple(signatures)


def open_note(note: str, key: VerifierKey | str) -> str:
    """Verify ``note`` against one trusted key and return its text."""
    trusted = parse_verifier_key(key) if isinstance(key, str) else key
    text, signatures = parse_note(note)
    verified = False
    same_name_ids = []
    for signature in signatures:
        if signature.name != trusted.name:
            continue
        if signature.key_id != trusted.key_id:
            same_name_ids.append(signature.key_id.hex())
            continue
        if not verify_ed25519(trusted.public_key, signature.signature, text.encode("utf-8")):
            raise NoteSignatureError(f"signature by {trusted.name} does not verify")
        verified = True
    if not verified:
        detail = f" (key ids seen: {', '.join(same_name_ids)})" if same_name_ids else ""
        raise UntrustedNoteError(
            f"note is not signed by {trusted.name} key {trusted.key_id.hex()}{detail}"
        )
    return text
