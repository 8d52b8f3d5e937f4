"""C2SP transparency-log checkpoints (``c2sp.org/tlog-checkpoint``).

A checkpoint is a signed note (see ``notarium.formats.tlog.note``) whose text is::

    <origin>\\n
    <tree size: ASCII decimal, no leading zeros unless 0>\\n
    <base64 of the 32-byte RFC 6962 root>\\n
    <extension line>\\n        (zero or more, each non-empty)

followed by the blank line and the signature lines. Parsing accepts only that shape:
canonical decimal (at most 2**64 - 1, what other implementations read), canonical
base64 of exactly 32 bytes, no empty or control-character lines.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Final

from notarium.formats.signing import RecordSigner
from notarium.formats.tlog.errors import (
    InvalidCheckpointError,
    MalformedCheckpointError,
    OriginMismatchError,
)
from notarium.formats.tlog.note import (
    NoteSignature,
    VerifierKey,
    decode_canonical_base64,
    is_utf8_text,
    open_note,
    parse_note,
    parse_verifier_key,
    sign_note,
)
from notarium.formats.tlog.tree import HASH_SIZE

MAX_TREE_SIZE: Final = 2**64 - 1

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_BAD_LINE = re.compile(r"[\x00-\x1f]")


def _line_problem(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be non-empty text"
    if _BAD_LINE.search(value) or not is_utf8_text(value):
        return "must be a single line of UTF-8 text without control characters"
    return None


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: which log, how many entries, and their RFC 6962 root."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problem = _line_problem(self.origin)
        if problem:
            raise InvalidCheckpointError(f"checkpoint origin {problem}")
        if (
            not isinstance(self.size, int)
            or isinstance(self.size, bool)
            or not 0 <= self.size <= MAX_TREE_SIZE
        ):
            raise InvalidCheckpointError(f"checkpoint size must be an integer 0..{MAX_TREE_SIZE}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise InvalidCheckpointError(f"checkpoint root must be {HASH_SIZE} bytes")
        if not isinstance(self.extensions, tuple):
            raise InvalidCheckpointError("checkpoint extensions must be a tuple of lines")
        for position, line in enumerate(self.extensions):
            problem = _line_problem(line)
            if problem:
                raise InvalidCheckpointError(f"checkpoint extension {position} {problem}")

    def body(self) -> str:
        """The note text that is signed."""
        root = base64.b64encode(self.root).decode("ascii")
        extensions = "".join(f"{line}\n" for line in self.extensions)
        return f"{self.origin}\n{self.size}\n{root}\n{extensions}"


def parse_checkpoint_body(text: str) -> Checkpoint:
    """Parse checkpoint note text (as returned by ``open_note``)."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise MalformedCheckpointError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpointError("checkpoint needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    if _line_problem(origin):
        raise MalformedCheckpointError("checkpoint origin line is empty or malformed")
    if not _DECIMAL.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
        raise MalformedCheckpointError(f"checkpoint size {size_text!r} is not a canonical decimal")
    root = decode_canonical_base64(root_text)
    if root is None or len(root) != HASH_SIZE:
        raise MalformedCheckpointError("checkpoint root is not canonical base64 of 32 bytes")
    for line in extensions:
        if _line_problem(line):
            raise MalformedCheckpointError("checkpoint extension lines must be non-empty")
    return Checkpoint(origin=origin, size=int(size_text), root=root, extensions=tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: RecordSigner) -> str:
    """The checkpoint as a signed note, signed by ``signer``."""
    return sign_note(checkpoint.body(), signer)


def parse_signed_checkpoint(text: str) -> tuple[Checkpoint, tuple[NoteSignature, ...]]:
    """Parse a signed checkpoint without verifying any signature."""
    body, signatures = parse_note(text)
    return parse_checkpoint_body(body), signatures


def verify_checkpoint(
    text: str, verifier_key: str | VerifierKey, origin: str | None = None
) -> Checkpoint:
    """The checkpoint in ``text`` once its signature by ``verifier_key`` verifies.

    With ``origin`` the checkpoint must also name that log: a checkpoint signed by the
    right key for another of its logs proves nothing about this one.
    """
    key = parse_verifier_key(verifier_key) if isinstance(verifier_key, str) else verifier_key
    # Parse first so that a malformed checkpoint is reported as such even when signed.
    checkpoint, _ = parse_signed_checkpoint(text)
    open_note(text, key)
    if origin is not None and checkpoint.origin != origin:
        raise OriginMismatchError(
            f"checkpoint is for log {checkpoint.origin!r}, expected {origin!r}"
        )
    return checkpoint
