"""Proof test vectors: valid proofs, and invalid ones each named by the mutation it makes.

Run ``python tests/vectors/proofs/generate.py`` (with notarium importable) to rewrite the
vector files next to this script; ``build_vectors()`` returns the same files in memory,
which the test suite compares with the committed ones.

Everything is deterministic. The base proof is the worked example of
docs/proof-format.md §17 (its record, Merkle path, anchors and block headers), with its
notary token re-signed by a throwaway TSA hierarchy whose keys are derived from fixed
numbers and whose ECDSA signatures are deterministic (RFC 6979), so that vectors that
need a differently built token or certificate can be made. Ed25519 is deterministic by
design; the service key is the document's example key (seed bytes 00..1f).

Each vector is self-contained (see README.md): the proof's exact bytes, the file's
SHA-256, the trust roots, the pinned service keys, the block header source, and the
expected verdict with the rule of docs/proof-format.md it pins.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[2] / "docs" / "proof-format.md"
DOCUMENT = b"The quick brown fox jumps over the lazy dog.\n"
KEY_NAME = "notary.example.org"
ORIGIN = f"{KEY_NAME}/log"
SERVICE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
CA_END = datetime(2046, 1, 1, tzinfo=UTC)
TSA_END = datetime(2036, 1, 1, tzinfo=UTC)


def canonical(value: Any) -> bytes:
    from notarium.formats.canonical import canonical_json

    return canonical_json(value)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]


# -- the worked example ------------------------------------------------------------


def _example_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index("## 17. Worked example") : text.index("## 18.")]


def _blocks(lang: str) -> list[str]:
    return [
        body
        for found, body in re.findall(r"```(\w*)\n(.*?)\n```", _example_section(), re.DOTALL)
        if found == lang
    ]


def example() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(_blocks("json")[0])
    return bundle


def example_headers() -> dict[int, str]:
    table = next(b for b in _blocks("text") if re.fullmatch(r"(\d+ [0-9a-f]{160}\n?)+", b))
    return {int(h): header for h, header in (line.split(" ") for line in table.splitlines())}


# -- a deterministic notary TSA hierarchy ------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "notarium vectors"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


CA_KEY = ec.derive_private_key(0x5EED_CA, ec.SECP384R1())
TSA_KEY = ec.derive_private_key(0x5EED_75A, ec.SECP256R1())


def make_ca(*, ca: bool = True) -> x509.Certificate:
    public = CA_KEY.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(_name("vectors Root CA"))
        .issuer_name(_name("vectors Root CA"))
        .public_key(public)
        .serial_number(0xCA01)
        .not_valid_before(EPOCH)
        .not_valid_after(CA_END)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
        .sign(CA_KEY, hashes.SHA384(), ecdsa_deterministic=True)
    )


@dataclass(frozen=True)
class TsaProfile:
    serial: int = 0x75A1
    not_before: datetime = EPOCH
    not_after: datetime = TSA_END
    eku: tuple[x509.ObjectIdentifier, ...] = (ExtendedKeyUsageOID.TIME_STAMPING,)
    eku_critical: bool = True
    cert_sign: bool = False
    unknown_critical: bool = False


def make_tsa(profile: TsaProfile = TsaProfile()) -> x509.Certificate:
    public = TSA_KEY.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("vectors Time-Stamping Authority"))
        .issuer_name(_name("vectors Root CA"))
        .public_key(public)
        .serial_number(profile.serial)
        .not_valid_before(profile.not_before)
        .not_valid_after(profile.not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, profile.cert_sign, False, False, False),
            True,
        )
        .add_extension(x509.ExtendedKeyUsage(list(profile.eku)), profile.eku_critical)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
    )
    if profile.unknown_critical:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00"),
            True,
        )
    return builder.sign(CA_KEY, hashes.SHA384(), ecdsa_deterministic=True)


def tst_info_of(token_der: bytes) -> tsp.TSTInfo:
    content = cms.ContentInfo.load(token_der)["content"]
    return tsp.TSTInfo.load(bytes(content["encap_content_info"]["content"]))


def sign_token(
    tst_der: bytes,
    *,
    signer: x509.Certificate,
    certificates: list[x509.Certificate],
    ess_cert: x509.Certificate | None = None,
) -> bytes:
    """A TimeStampToken around ``tst_der``, signed by TSA_KEY under ``signer``."""
    signer_asn1 = asn1_x509.Certificate.load(signer.public_bytes(serialization.Encoding.DER))
    named = (ess_cert or signer).public_bytes(serialization.Encoding.DER)
    attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute(
                {"type": "message_digest", "values": [hashlib.sha256(tst_der).digest()]}
            ),
            cms.CMSAttribute(
                {
                    "type": "signing_certificate_v2",
                    "values": [
                        tsp.SigningCertificateV2(
                            {"certs": [{"cert_hash": hashlib.sha256(named).digest()}]}
                        )
                    ],
                }
            ),
        ]
    )
    signature = TSA_KEY.sign(attrs.dump(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": signer_asn1.issuer,
                        "serial_number": signer_asn1.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": cms.ParsableOctetString(tst_der),
            },
            "certificates": [
                asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
                for c in certificates
            ],
            "signer_infos": [signer_info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


def replace_tst_info(token_der: bytes, tst_der: bytes) -> bytes:
    """The same SignedData (signature untouched) around another TSTInfo."""
    info = cms.ContentInfo.load(token_der)
    info["content"]["encap_content_info"]["content"] = cms.ParsableOctetString(tst_der)
    return bytes(info.dump(force=True))


def with_gen_time(tst: tsp.TSTInfo, when: datetime) -> bytes:
    altered = tsp.TSTInfo.load(tst.dump())
    altered["gen_time"] = core.GeneralizedTime(when)
    return bytes(altered.dump(force=True))


# -- finishing a proof ------------------------------------------------------------


def _leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


FILLER = (_leaf(b"vectors: entry 1"), _leaf(b"vectors: entry 2"))


def checkpoint(
    root: bytes,
    size: int,
    *,
    origin: str = ORIGIN,
    signers: tuple[tuple[str, Ed25519PrivateKey], ...] | None = None,
) -> str:
    text = f"{origin}\n{size}\n{b64(root)}\n"
    lines = []
    for name, key in signers or ((ORIGIN, SERVICE_KEY),):
        signature = key.sign(text.encode())
        lines.append(f"\u2014 {name} {b64(key_id(name, raw_public(key)) + signature)}\n")
    return text + "\n" + "".join(lines)


def tlog_proof(record: dict[str, Any], **options: Any) -> str:
    """Entry 0 of a three-entry log whose other entries are fixed filler."""
    leaf = _leaf(canonical(record))
    root = _node(_node(leaf, FILLER[0]), FILLER[1])
    body = f"c2sp.org/tlog-proof@v1\nindex 0\n{b64(FILLER[0])}\n{b64(FILLER[1])}\n\n"
    return body + checkpoint(root, 3, **options)


def finish(
    bundle: dict[str, Any],
    *,
    record: bool = True,
    log: bool = True,
    seal: bool = True,
    token_hash: bool = True,
) -> dict[str, Any]:
    """Make every part that a mutation did not mean to break consistent again."""
    if token_hash:
        token = base64.b64decode(bundle["rfc3161"]["token"])
        bundle["record"]["tsa_token_sha256"] = hashlib.sha256(token).hexdigest()
    if record:
        bundle["signature"]["value"] = b64(SERVICE_KEY.sign(canonical(bundle["record"])))
    if log and isinstance(bundle.get("log"), dict):
        bundle["log"] = {"tlog_proof": tlog_proof(bundle["record"])}
    if seal:
        unsealed = {k: v for k, v in bundle.items() if k != "seal"}
        bundle["seal"]["value"] = b64(SERVICE_KEY.sign(canonical(unsealed)))
    return bundle


# -- vectors ---------------------------------------------------------------------


@dataclass
class Inputs:
    file_sha256: str | None
    trust_roots: list[str]
    service_public_keys: list[str]
    headers_mode: str  # "by_height", "given" or "none"
    headers: dict[int, str] = field(default_factory=dict)


@dataclass
class Vector:
    name: str
    description: str
    rule: str
    expected: dict[str, Any]
    proof: bytes
    inputs: Inputs

    def to_json(self) -> dict[str, Any]:
        headers: dict[str, Any] = {"mode": self.inputs.headers_mode}
        if self.inputs.headers_mode == "by_height":
            headers["by_height"] = {str(h): v for h, v in sorted(self.inputs.headers.items())}
        elif self.inputs.headers_mode == "given":
            headers["given"] = [v for _, v in sorted(self.inputs.headers.items())]
        return {
            "name": self.name,
            "description": self.description,
            "rule": self.rule,
            "expected": self.expected,
            "proof_base64": b64(self.proof),
            "file_sha256": self.inputs.file_sha256,
            "trust_roots": self.inputs.trust_roots,
            "service_public_keys": self.inputs.service_public_keys,
            "block_headers": headers,
        }


class Base:
    """The valid, fully anchored proof every vector starts from, and its inputs."""

    def __init__(self) -> None:
        doc = example()
        self.ca = make_ca()
        self.tsa = make_tsa()
        self.doc_tst = tst_info_of(base64.b64decode(doc["rfc3161"]["token"]))
        external = next(a for a in doc["anchors"] if a["kind"] == "rfc3161")
        self.external_root = external["chain"][-1]
        self.headers = example_headers()
        bundle = copy.deepcopy(doc)
        bundle["rfc3161"] = {
            "token": b64(self.token()),
            "chain": [pem(self.tsa), pem(self.ca)],
        }
        self.bundle = finish(bundle)
        self.inputs = Inputs(
            file_sha256=hashlib.sha256(DOCUMENT).hexdigest(),
            trust_roots=[pem(self.ca), self.external_root],
            service_public_keys=[b64(raw_public(SERVICE_KEY))],
            headers_mode="by_height",
            headers=dict(self.headers),
        )

    def token(self, tst_der: bytes | None = None, **options: Any) -> bytes:
        options.setdefault("signer", self.tsa)
        options.setdefault("certificates", [options["signer"], self.ca])
        return sign_token(tst_der or bytes(self.doc_tst.dump()), **options)

    def copy(self) -> dict[str, Any]:
        return copy.deepcopy(self.bundle)


Mutation = Callable[[Base], tuple[bytes | dict[str, Any], Inputs | None]]


def _anchor(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in bundle["anchors"] if a["kind"] == kind)
    return found


def _ots_file(bundle: dict[str, Any]) -> Any:
    from opentimestamps.core.serialize import BytesDeserializationContext
    from opentimestamps.core.timestamp import DetachedTimestampFile

    data = base64.b64decode(_anchor(bundle, "ots")["ots"])
    return DetachedTimestampFile.deserialize(BytesDeserializationContext(data))


def _ots_bytes(detached: Any) -> str:
    from opentimestamps.core.serialize import BytesSerializationContext

    ctx = BytesSerializationContext()
    detached.serialize(ctx)
    return b64(bytes(ctx.getbytes()))


def _edit(edit: Callable[[dict[str, Any]], None], **finishing: bool) -> Mutation:
    def mutate(base: Base) -> tuple[dict[str, Any], None]:
        bundle = base.copy()
        edit(bundle)
        return finish(bundle, **finishing), None

    return mutate


def _raw(edit: Callable[[bytes], bytes]) -> Mutation:
    def mutate(base: Base) -> tuple[bytes, None]:
        return edit(canonical(base.bundle)), None

    return mutate


def _inputs(edit: Callable[[Inputs, Base], Inputs]) -> Mutation:
    def mutate(base: Base) -> tuple[dict[str, Any], Inputs]:
        return base.copy(), edit(replace(base.inputs), base)

    return mutate


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(bundle: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = bundle
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is _DELETE:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return edit


_DELETE = object()


def _token_edit(make: Callable[[Base], bytes], **finishing: bool) -> Mutation:
    def mutate(base: Base) -> tuple[dict[str, Any], None]:
        bundle = base.copy()
        bundle["rfc3161"]["token"] = b64(make(base))
        return finish(bundle, **finishing), None

    return mutate


def _tsa_profile(profile: TsaProfile) -> Mutation:
    def mutate(base: Base) -> tuple[dict[str, Any], None]:
        bundle = base.copy()
        cert = make_tsa(profile)
        bundle["rfc3161"] = {
            "token": b64(base.token(signer=cert)),
            "chain": [pem(cert), pem(base.ca)],
        }
        return finish(bundle), None

    return mutate


def _pem_wrapped_76(text: str) -> str:
    body = "".join(text.splitlines()[1:-1])
    lines = [body[i : i + 76] for i in range(0, len(body), 76)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _ots_with(change: Callable[[Any], None]) -> Callable[[dict[str, Any]], None]:
    def edit(bundle: dict[str, Any]) -> None:
        detached = _ots_file(bundle)
        change(detached)
        _anchor(bundle, "ots")["ots"] = _ots_bytes(detached)

    return edit


def _add_op(op_name: str) -> Callable[[Any], None]:
    def change(detached: Any) -> None:
        from opentimestamps.core import op as ots_op
        from opentimestamps.core.notary import PendingAttestation

        op = {"sha1": ots_op.OpSHA1(), "keccak256": ots_op.OpKECCAK256()}[op_name]
        child = detached.timestamp.ops.add(op)
        child.attestations.add(PendingAttestation("https://calendar.example.org"))

    return change


def _add_litecoin(detached: Any) -> None:
    from opentimestamps.core.notary import LitecoinBlockHeaderAttestation

    detached.timestamp.attestations.add(LitecoinBlockHeaderAttestation(1))


def _ots_sha1(bundle: dict[str, Any]) -> None:
    from opentimestamps.core.notary import PendingAttestation
    from opentimestamps.core.op import OpSHA1
    from opentimestamps.core.timestamp import DetachedTimestampFile, Timestamp

    stamp = Timestamp(hashlib.sha1(DOCUMENT, usedforsecurity=False).digest())
    stamp.attestations.add(PendingAttestation("https://calendar.example.org"))
    _anchor(bundle, "ots")["ots"] = _ots_bytes(DetachedTimestampFile(OpSHA1(), stamp))


def _ots_pending(digest: bytes, ops: list[tuple[str, bytes | None]]) -> str:
    from opentimestamps.core.notary import PendingAttestation
    from opentimestamps.core.op import OpAppend, OpPrepend, OpSHA256
    from opentimestamps.core.timestamp import DetachedTimestampFile, Timestamp

    stamp = Timestamp(digest)
    node = stamp
    for name, arg in ops:
        made = {"append": OpAppend, "prepend": OpPrepend}[name](arg) if arg else OpSHA256()
        node = node.ops.add(made)
    node = node.ops.add(OpAppend(bytes(range(16)))).ops.add(OpSHA256())
    node.attestations.add(PendingAttestation("https://calendar.example.org"))
    return _ots_bytes(DetachedTimestampFile(OpSHA256(), stamp))


def _path_ops(bundle: dict[str, Any]) -> list[tuple[str, bytes | None]]:
    leaf = bundle["merkle"]["leaf"]
    ops: list[tuple[str, bytes | None]] = [
        ("append", bytes.fromhex(leaf["nonce"])),
        ("sha256", None),
    ]
    for step in leaf["path"]:
        side = "prepend" if step["side"] == "left" else "append"
        ops += [(side, bytes.fromhex(step["sibling"])), ("sha256", None)]
    return ops


def _ots_other_path(bundle: dict[str, Any]) -> None:
    ops = [("append", bytes(16)), ("sha256", None)]
    _anchor(bundle, "ots")["ots"] = _ots_pending(bytes.fromhex(bundle["record"]["sha256"]), ops)


def _ots_other_file(bundle: dict[str, Any]) -> None:
    ops = _path_ops(bundle)
    _anchor(bundle, "ots")["ots"] = _ots_pending(hashlib.sha256(b"another file").digest(), ops)


def _ots_heights_swapped(detached: Any) -> None:
    from opentimestamps.core.notary import BitcoinBlockHeaderAttestation

    stack = [detached.timestamp]
    while stack:
        node = stack.pop()
        for attestation in list(node.attestations):
            if isinstance(attestation, BitcoinBlockHeaderAttestation):
                node.attestations.remove(attestation)
                node.attestations.add(BitcoinBlockHeaderAttestation(3 - attestation.height))
        stack.extend(node.ops.values())


def _only(*kinds: str) -> Callable[[dict[str, Any]], None]:
    def edit(bundle: dict[str, Any]) -> None:
        bundle["anchors"] = [a for a in bundle["anchors"] if a["kind"] in kinds]

    return edit


def _created(bundle: dict[str, Any]) -> None:
    bundle.update(merkle=None, anchors=[], log=None)


def _logged(bundle: dict[str, Any]) -> None:
    bundle.update(merkle=None, anchors=[])


def _pending(bundle: dict[str, Any]) -> None:
    digest = bytes.fromhex(bundle["record"]["sha256"])
    bundle["anchors"] = [{"kind": "ots", "ots": _ots_pending(digest, _path_ops(bundle))}]


def _tx_with_witness(bundle: dict[str, Any]) -> None:
    from bitcoin.core import CMutableTransaction, CTransaction, CTxInWitness, CTxWitness
    from bitcoin.core.script import CScriptWitness

    proof = _anchor(bundle, "bitcoin")["proof"]
    tx = CMutableTransaction.from_tx(CTransaction.deserialize(bytes.fromhex(proof["raw_tx"])))
    tx.wit = CTxWitness([CTxInWitness(CScriptWitness([b"\x01" * 33])) for _ in tx.vin])
    proof["raw_tx"] = tx.serialize().hex()


def _external_altered(base: Base) -> tuple[dict[str, Any], None]:
    bundle = base.copy()
    anchor = _anchor(bundle, "rfc3161")
    token = base64.b64decode(anchor["token"])
    tst = tst_info_of(token)
    altered = with_gen_time(tst, datetime(2026, 11, 20, 16, 34, 14, tzinfo=UTC))
    anchor["token"] = b64(replace_tst_info(token, altered))
    return finish(bundle), None


def _tlog(edit: Callable[[str], str]) -> Callable[[dict[str, Any]], None]:
    def change(bundle: dict[str, Any]) -> None:
        bundle["log"]["tlog_proof"] = edit(bundle["log"]["tlog_proof"])

    return change


def _relog(**options: Any) -> Callable[[dict[str, Any]], None]:
    def change(bundle: dict[str, Any]) -> None:
        bundle["log"]["tlog_proof"] = tlog_proof(bundle["record"], **options)

    return change


def _flip_last_b64_char(text: str) -> str:
    """Change one character well inside the last line's base64, keeping it canonical."""
    index = len(text) - 10
    char = "A" if text[index] != "A" else "B"
    return text[:index] + char + text[index + 1 :]


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _noncanonical_b64(value: str) -> str:
    """The same bytes with a non-zero unused bit before the padding."""
    stripped = value.rstrip("=")
    last = _B64[_B64.index(stripped[-1]) | 1]
    return stripped[:-1] + last + value[len(stripped) :]


def _flip_signature_byte(value: str, offset: int = 10) -> str:
    data = bytearray(base64.b64decode(value))
    data[offset] ^= 0x01
    return b64(bytes(data))


def _flip_token_signature(base: Base) -> bytes:
    token = bytearray(base.token())
    token[-10] ^= 0x01
    return bytes(token)


def _gen_time_altered(base: Base) -> bytes:
    altered = with_gen_time(base.doc_tst, datetime(2026, 11, 20, 16, 34, 13, tzinfo=UTC))
    return replace_tst_info(base.token(), altered)


def _imprint_other(base: Base) -> bytes:
    tst = tsp.TSTInfo.load(base.doc_tst.dump())
    tst["message_imprint"]["hashed_message"] = hashlib.sha256(b"another file").digest()
    return base.token(bytes(tst.dump(force=True)))


def _imprint_sha512(base: Base) -> bytes:
    tst = tsp.TSTInfo.load(base.doc_tst.dump())
    tst["message_imprint"] = tsp.MessageImprint(
        {
            "hash_algorithm": {"algorithm": "sha512"},
            "hashed_message": hashlib.sha512(DOCUMENT).digest(),
        }
    )
    return base.token(bytes(tst.dump(force=True)))


def _no_signer_cert(base: Base) -> tuple[dict[str, Any], None]:
    bundle = base.copy()
    bundle["rfc3161"] = {
        "token": b64(base.token(certificates=[])),
        "chain": [pem(base.ca)],
    }
    return finish(bundle), None


def _ca_not_ca(base: Base) -> tuple[dict[str, Any], Inputs]:
    bundle = base.copy()
    not_ca = make_ca(ca=False)
    bundle["rfc3161"] = {
        "token": b64(base.token(certificates=[base.tsa, not_ca])),
        "chain": [pem(base.tsa), pem(not_ca)],
    }
    inputs = replace(base.inputs, trust_roots=[pem(not_ca), base.external_root])
    return finish(bundle), inputs


def _unused_chain_certificate(bundle: dict[str, Any]) -> None:
    bundle["rfc3161"]["chain"].append(_anchor(bundle, "rfc3161")["chain"][0])


def _mutations() -> list[tuple[str, str, str, Mutation]]:
    """(name, rule, expected code, mutation); names say what the mutation does."""
    s = _set
    return [
        # Step 1
        (
            "json-truncated",
            "§14 step 1: the bytes MUST be JSON",
            "PROOF_MALFORMED",
            _raw(lambda b: b[:-1]),
        ),
        (
            "json-top-level-array",
            "§14 step 1: the top level MUST be an object",
            "PROOF_MALFORMED",
            _raw(lambda b: b"[" + b + b"]"),
        ),
        (
            "json-duplicate-key",
            "§14 step 1: no key repeated in any object",
            "PROOF_MALFORMED",
            _raw(lambda b: b[:-1] + b',"version":1}'),
        ),
        (
            "json-nan-constant",
            "§14 step 1: no NaN, Infinity or -Infinity",
            "PROOF_MALFORMED",
            _raw(lambda b: b.replace(b'"version":1', b'"version":NaN')),
        ),
        # Step 2
        (
            "canonical-whitespace-added",
            "§14 step 2, §1: no whitespace between tokens",
            "PROOF_NOT_CANONICAL",
            _raw(lambda b: b.replace(b'"version":1', b'"version": 1')),
        ),
        (
            "canonical-trailing-newline",
            "§14 step 2, §1: no trailing newline",
            "PROOF_NOT_CANONICAL",
            _raw(lambda b: b + b"\n"),
        ),
        (
            "canonical-keys-out-of-order",
            "§14 step 2, §12.2: members sorted by key",
            "PROOF_NOT_CANONICAL",
            _raw(lambda b: b'{"version":1,' + b[1:].replace(b',"version":1}', b"}")),
        ),
        (
            "canonical-escaped-non-ascii",
            "§14 step 2, §12.4: non-ASCII written as itself",
            "PROOF_NOT_CANONICAL",
            _raw(lambda b: b.replace("—".encode(), b"\\u2014")),
        ),
        (
            "canonical-byte-order-mark",
            "§14 step 2, §1: no byte-order mark",
            "PROOF_NOT_CANONICAL",
            _raw(lambda b: b"\xef\xbb\xbf" + b),
        ),
        (
            "canonical-fraction-number",
            "§14 step 2, §12.6: integers only, no fraction",
            "PROOF_MALFORMED",
            _raw(lambda b: b.replace(b'"version":1', b'"version":1.0')),
        ),
        (
            "canonical-integer-beyond-2-53",
            "§14 step 2, §1: integers at most 2^53-1",
            "PROOF_MALFORMED",
            _raw(
                lambda b: b.replace(b'"file_size_bytes":45', b'"file_size_bytes":9007199254740992')
            ),
        ),
        (
            "canonical-lone-surrogate",
            "§14 step 2, §12.4: strings MUST be valid Unicode",
            "PROOF_MALFORMED",
            _raw(lambda b: b.replace(b'"filename":"', b'"filename":"\\ud800')),
        ),
        # Step 3
        (
            "top-level-extra-key",
            "§2, §14 step 3: exactly the ten top-level keys",
            "PROOF_MALFORMED",
            _edit(s("extra", 1)),
        ),
        (
            "top-level-missing-log",
            "§2, §14 step 3: exactly the ten top-level keys",
            "PROOF_MALFORMED",
            _edit(s("log", _DELETE)),
        ),
        (
            "hash-extra-key",
            "§4, §14 step 3: hash has exactly its keys",
            "PROOF_MALFORMED",
            _edit(s("hash.note", "x")),
        ),
        (
            "rfc3161-missing-chain",
            "§5, §14 step 3: rfc3161 has exactly its keys",
            "PROOF_MALFORMED",
            _edit(s("rfc3161.chain", _DELETE)),
        ),
        (
            "signature-extra-key",
            "§6, §14 step 3: signature has exactly its keys",
            "PROOF_MALFORMED",
            _edit(s("signature.comment", "x")),
        ),
        (
            "seal-extra-key",
            "§10, §14 step 3: seal has exactly its keys",
            "PROOF_MALFORMED",
            _edit(s("seal.key_id", "47192693")),
        ),
        (
            "anchors-null",
            "§8, §14 step 3: anchors is an array ([] when none)",
            "PROOF_MALFORMED",
            _edit(s("anchors", None)),
        ),
        (
            "merkle-not-object",
            "§14 step 3: merkle is an object or null",
            "PROOF_MALFORMED",
            _edit(s("merkle", [])),
        ),
        (
            "chain-pem-not-canonical",
            "§1, §14 step 3: PEM exactly as strict encoders write it",
            "PROOF_MALFORMED",
            _edit(
                lambda b: b["rfc3161"]["chain"].__setitem__(
                    1, _pem_wrapped_76(b["rfc3161"]["chain"][1])
                )
            ),
        ),
        (
            "chain-entry-not-certificate",
            "§14 step 3: each chain element is a certificate",
            "PROOF_MALFORMED",
            _edit(s("rfc3161.chain.1", "not a certificate")),
        ),
        # Step 4
        (
            "format-other",
            "§2, §14 step 4: format is notarium-proof",
            "PROOF_UNSUPPORTED_FORMAT",
            _edit(s("format", "other-proof")),
        ),
        (
            "version-2",
            "§2, §14 step 4: version is the integer 1",
            "PROOF_UNSUPPORTED_FORMAT",
            _edit(s("version", 2)),
        ),
        (
            "version-true",
            "§2, §14 step 4: version is an integer, not a boolean",
            "PROOF_UNSUPPORTED_FORMAT",
            _edit(s("version", True)),
        ),
        (
            "version-string",
            "§2, §14 step 4: version is an integer",
            "PROOF_UNSUPPORTED_FORMAT",
            _edit(s("version", "1")),
        ),
        # Step 5
        (
            "record-missing-key",
            "§3, §14 step 5: record has exactly its eight keys",
            "PROOF_MALFORMED",
            _edit(s("record.file_type", _DELETE)),
        ),
        (
            "record-extra-key",
            "§3, §14 step 5: an extra record key is rejected",
            "PROOF_MALFORMED",
            _edit(s("record.customer", "acme")),
        ),
        (
            "record-id-not-string",
            "§3, §14 step 5: id is a string",
            "PROOF_MALFORMED",
            _edit(s("record.id", 7)),
        ),
        (
            "record-sha256-uppercase",
            "§1, §14 step 5: sha256 is 64 lowercase hex",
            "PROOF_MALFORMED",
            _edit(_uppercase_sha256),
        ),
        (
            "record-file-size-negative",
            "§3, §14 step 5: file_size_bytes in 0..2^53-1",
            "PROOF_MALFORMED",
            _edit(s("record.file_size_bytes", -1)),
        ),
        (
            "record-file-size-boolean",
            "§3, §14 step 5: file_size_bytes is not a boolean",
            "PROOF_MALFORMED",
            _edit(s("record.file_size_bytes", True)),
        ),
        (
            "record-file-type-number",
            "§3, §14 step 5: file_type is a string or null",
            "PROOF_MALFORMED",
            _edit(s("record.file_type", 1)),
        ),
        (
            "record-created-at-without-millis",
            "§1, §14 step 5: created_at YYYY-MM-DDTHH:MM:SS.mmmZ",
            "PROOF_MALFORMED",
            _edit(s("record.created_at", "2026-11-21T16:34:13Z")),
        ),
        (
            "record-created-at-impossible-date",
            "§1, §14 step 5: a real calendar date",
            "PROOF_MALFORMED",
            _edit(s("record.created_at", "2026-02-30T16:34:13.945Z")),
        ),
        (
            "hash-algorithm-other",
            "§4, §14 step 5: hash.algorithm is sha256",
            "PROOF_MALFORMED",
            _edit(s("hash.algorithm", "sha512")),
        ),
        (
            "hash-value-differs",
            "§4, §14 step 5: hash.value equals record.sha256",
            "PROOF_MALFORMED",
            _edit(s("hash.value", "00" * 32)),
        ),
        (
            "signature-value-base64-not-canonical",
            "§1, §14 step 5: canonical base64 (zero padding bits)",
            "PROOF_MALFORMED",
            _edit(
                lambda b: s("signature.value", _noncanonical_b64(b["signature"]["value"]))(b),
                record=False,
            ),
        ),
        (
            "token-base64-with-newline",
            "§1, §14 step 5: base64 without line breaks",
            "PROOF_MALFORMED",
            _edit(
                lambda b: s(
                    "rfc3161.token", b["rfc3161"]["token"][:64] + "\n" + b["rfc3161"]["token"][64:]
                )(b),
                token_hash=False,
            ),
        ),
        (
            "signature-algorithm-other",
            "§6, §14 step 5: signature.algorithm is ed25519",
            "PROOF_MALFORMED",
            _edit(s("signature.algorithm", "ecdsa")),
        ),
        (
            "signature-signed-other",
            "§6, §14 step 5: signature.signed is record",
            "PROOF_MALFORMED",
            _edit(s("signature.signed", "proof")),
        ),
        (
            "signature-key-name-with-space",
            "§6, §14 step 5: key_name without whitespace or +",
            "PROOF_MALFORMED",
            _edit(s("signature.key_name", "notary example")),
        ),
        (
            "signature-public-key-not-base64",
            "§14 step 5: public_key is canonical base64",
            "PROOF_MALFORMED",
            _edit(s("signature.public_key", "not base64!")),
        ),
        # Step 6
        (
            "file-hash-other",
            "§14 step 6: the file's hash equals record.sha256",
            "PROOF_HASH_MISMATCH",
            _inputs(
                lambda i, b: replace(i, file_sha256=hashlib.sha256(b"another file").hexdigest())
            ),
        ),
        # Step 7
        (
            "signature-public-key-wrong-length",
            "§14 step 7.1: public_key is 32 bytes",
            "PROOF_MALFORMED",
            _edit(s("signature.public_key", b64(bytes(31)))),
        ),
        (
            "signature-key-id-wrong",
            "§6, §14 step 7.2: key_id is the signed-note key id",
            "PROOF_SIGNATURE_INVALID",
            _edit(s("signature.key_id", "00000000")),
        ),
        (
            "record-signature-bit-flip",
            "§14 step 7.3: Ed25519 signature over canonical_json(record)",
            "PROOF_SIGNATURE_INVALID",
            _edit(
                lambda b: s("signature.value", _flip_signature_byte(b["signature"]["value"]))(b),
                record=False,
            ),
        ),
        (
            "record-filename-altered",
            "§3, §14 step 7.3: every record key is signed",
            "PROOF_SIGNATURE_INVALID",
            _edit(s("record.filename", "contract.pdf"), record=False),
        ),
        (
            "service-key-not-pinned",
            "§14 step 7.4: the signing key is one of the trusted keys",
            "PROOF_UNTRUSTED_SERVICE_KEY",
            _inputs(lambda i, b: replace(i, service_public_keys=[b64(raw_public(OTHER_KEY))])),
        ),
        # Step 8
        (
            "token-sha256-mismatch",
            "§3, §14 step 8.1: SHA-256 of the token is tsa_token_sha256",
            "PROOF_TOKEN_MISMATCH",
            _edit(s("record.tsa_token_sha256", "00" * 32), token_hash=False),
        ),
        (
            "token-not-der",
            "§14 step 8.2: the token parses as DER ContentInfo",
            "PROOF_MALFORMED",
            _edit(s("rfc3161.token", b64(b"not a token"))),
        ),
        (
            "token-trailing-bytes",
            "§14 step 8.2: DER with no trailing bytes",
            "PROOF_MALFORMED",
            _token_edit(lambda base: base.token() + b"\x00"),
        ),
        (
            "token-imprint-other-file",
            "§14 step 8.3: the imprint is record.sha256",
            "PROOF_TOKEN_MISMATCH",
            _token_edit(_imprint_other),
        ),
        (
            "token-imprint-sha512",
            "§14 step 8.3: the imprint algorithm is SHA-256",
            "PROOF_TOKEN_MISMATCH",
            _token_edit(_imprint_sha512),
        ),
        # Step 9
        (
            "tsr-gentime-altered",
            "§14 step 9.5: messageDigest is the digest of the TSTInfo",
            "PROOF_TOKEN_SIGNATURE_INVALID",
            _token_edit(_gen_time_altered),
        ),
        (
            "token-signature-bit-flip",
            "§14 step 9.7: the signature verifies with the signer's key",
            "PROOF_TOKEN_SIGNATURE_INVALID",
            _token_edit(_flip_token_signature),
        ),
        (
            "token-signer-certificate-absent",
            "§14 step 9.2: the signer certificate is in the token or chain",
            "PROOF_TOKEN_SIGNATURE_INVALID",
            _no_signer_cert,
        ),
        (
            "token-ess-names-other-certificate",
            "§14 step 9.6: signing-certificate-v2 hashes the signer certificate",
            "PROOF_TOKEN_SIGNATURE_INVALID",
            _token_edit(lambda base: base.token(ess_cert=base.ca)),
        ),
        # Step 10
        (
            "tsa-certificate-eku-not-critical",
            "§5, §14 step 10: extKeyUsage is critical",
            "PROOF_TSA_CERTIFICATE_INVALID",
            _tsa_profile(TsaProfile(serial=0x75A2, eku_critical=False)),
        ),
        (
            "tsa-certificate-eku-extra-purpose",
            "§14 step 10: extKeyUsage has exactly timeStamping",
            "PROOF_TSA_CERTIFICATE_INVALID",
            _tsa_profile(
                TsaProfile(
                    serial=0x75A3,
                    eku=(ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING),
                )
            ),
        ),
        (
            "tsa-certificate-key-usage-cert-sign",
            "§14 step 10: key usage only digitalSignature/nonRepudiation",
            "PROOF_TSA_CERTIFICATE_INVALID",
            _tsa_profile(TsaProfile(serial=0x75A4, cert_sign=True)),
        ),
        # Step 11
        (
            "chain-root-not-trusted",
            "§14 step 11.3: the path ends at a trust root",
            "PROOF_CHAIN_INVALID",
            _inputs(lambda i, b: replace(i, trust_roots=[b.external_root])),
        ),
        (
            "chain-no-trust-roots",
            "§14 step 11.1: at least one trust root",
            "PROOF_CHAIN_INVALID",
            _inputs(lambda i, b: replace(i, trust_roots=[])),
        ),
        (
            "tsa-certificate-expired-at-gentime",
            "§14 step 11.2: notBefore <= genTime <= notAfter",
            "PROOF_CHAIN_INVALID",
            _tsa_profile(TsaProfile(serial=0x75A5, not_after=datetime(2026, 6, 1, tzinfo=UTC))),
        ),
        (
            "tsa-certificate-unknown-critical-extension",
            "§14 step 11.2: no unknown critical extension",
            "PROOF_CHAIN_INVALID",
            _tsa_profile(TsaProfile(serial=0x75A6, unknown_critical=True)),
        ),
        (
            "chain-issuer-not-ca",
            "§14 step 11.3: the issuer has basicConstraints cA true",
            "PROOF_CHAIN_INVALID",
            _ca_not_ca,
        ),
        # Step 12
        (
            "merkle-extra-key",
            "§7, §14 step 12.1: merkle has exactly root and leaf",
            "PROOF_MALFORMED",
            _edit(s("merkle.size", 3)),
        ),
        (
            "merkle-root-uppercase",
            "§1, §14 step 12.1: root is 64 lowercase hex",
            "PROOF_MALFORMED",
            _edit(lambda b: s("merkle.root", b["merkle"]["root"].upper())(b)),
        ),
        (
            "merkle-nonce-wrong-length",
            "§7, §14 step 12.1: nonce is 32 lowercase hex",
            "PROOF_MALFORMED",
            _edit(s("merkle.leaf.nonce", "00" * 15)),
        ),
        (
            "merkle-path-side-other",
            "§7, §14 step 12.1: side is left or right",
            "PROOF_MALFORMED",
            _edit(s("merkle.leaf.path.0.side", "up")),
        ),
        (
            "merkle-path-step-extra-key",
            "§7, §14 step 12.1: each step has exactly side and sibling",
            "PROOF_MALFORMED",
            _edit(s("merkle.leaf.path.0.level", 0)),
        ),
        (
            "merkle-path-too-long",
            "§7, §14 step 12.1: path has at most 64 steps",
            "PROOF_MALFORMED",
            _edit(lambda b: s("merkle.leaf.path", b["merkle"]["leaf"]["path"] * 33)(b)),
        ),
        (
            "merkle-leaf-digest-other",
            "§7, §14 step 12.2: leaf.digest equals record.sha256",
            "ANCHOR_INVALID",
            _edit(s("merkle.leaf.digest", hashlib.sha256(b"x").hexdigest())),
        ),
        (
            "merkle-path-sibling-swapped",
            "§7, §14 step 12.3: the path leads to merkle.root",
            "ANCHOR_INVALID",
            _edit(s("merkle.leaf.path.0.side", "left")),
        ),
        (
            "merkle-root-altered",
            "§7, §14 step 12.3: the path leads to merkle.root",
            "ANCHOR_INVALID",
            _edit(s("merkle.root", "00" * 32)),
        ),
        # Step 13
        (
            "anchors-without-merkle",
            "§14 step 13.1: anchors need a batch root",
            "PROOF_MALFORMED",
            _edit(s("merkle", None)),
        ),
        (
            "anchor-unknown-kind",
            "§8, §14 step 13.3: kind is ots, bitcoin or rfc3161",
            "PROOF_MALFORMED",
            _edit(s("anchors.0.kind", "litecoin")),
        ),
        (
            "anchor-ots-extra-key",
            "§8, §14 step 13.3: exactly the kind's keys",
            "PROOF_MALFORMED",
            _edit(s("anchors.0.calendar", "https://calendar.example.org")),
        ),
        (
            "ots-base64-invalid",
            "§14 step 13 ots.1: ots is canonical base64",
            "PROOF_MALFORMED",
            _edit(s("anchors.0.ots", "***")),
        ),
        (
            "ots-trailing-bytes",
            "§8.1, §14 step 13 ots.2: no bytes after the timestamp",
            "PROOF_MALFORMED",
            _edit(
                lambda b: s(
                    "anchors.0.ots", b64(base64.b64decode(b["anchors"][0]["ots"]) + b"\x00")
                )(b)
            ),
        ),
        (
            "ots-op-not-allowed",
            "§8.1, §14 step 13 ots.2: only append, prepend and sha256",
            "PROOF_MALFORMED",
            _edit(_ots_with(_add_op("keccak256"))),
        ),
        (
            "ots-op-sha1-not-allowed",
            "§8.1, §14 step 13 ots.2: only append, prepend and sha256",
            "PROOF_MALFORMED",
            _edit(_ots_with(_add_op("sha1"))),
        ),
        (
            "ots-attestation-not-allowed",
            "§8.1, §14 step 13 ots.2: only pending and Bitcoin attestations",
            "PROOF_MALFORMED",
            _edit(_ots_with(_add_litecoin)),
        ),
        (
            "ots-file-hash-sha1",
            "§8.1, §14 step 13 ots.2: the file hash operation is sha256",
            "PROOF_MALFORMED",
            _edit(_ots_sha1),
        ),
        (
            "ots-digest-other-file",
            "§14 step 13 ots.3: the file digest is record.sha256",
            "PROOF_HASH_MISMATCH",
            _edit(_ots_other_file),
        ),
        (
            "ots-misses-merkle-root",
            "§14 step 13 ots.4: the tree passes through merkle.root",
            "ANCHOR_INVALID",
            _edit(_ots_other_path),
        ),
        (
            "ots-attestation-heights-swapped",
            "§14 step 13 ots.7: the header's Merkle root is the attested message",
            "PROOF_OTS_ATTESTATION_INVALID",
            _edit(_ots_with(_ots_heights_swapped)),
        ),
        (
            "ots-attestation-header-not-given",
            "§14 step 13 ots.7: every attestation has a header",
            "ANCHOR_INVALID",
            _inputs(
                lambda i, b: replace(
                    i, headers_mode="given", headers={h: v for h, v in b.headers.items() if h != 1}
                )
            ),
        ),
        (
            "bitcoin-prefix-uppercase",
            "§8.2, §14 step 13 bitcoin.1: prefix is lowercase hex",
            "PROOF_MALFORMED",
            _edit(s("anchors.1.prefix", "4E54524D")),
        ),
        (
            "bitcoin-prefix-empty",
            "§8.2, §14 step 13 bitcoin.1: prefix has at least one byte",
            "PROOF_MALFORMED",
            _edit(s("anchors.1.prefix", "")),
        ),
        (
            "bitcoin-proof-extra-key",
            "§8.2, §14 step 13 bitcoin.1: exactly the seven proof keys",
            "PROOF_MALFORMED",
            _edit(s("anchors.1.proof.confirmations", 6)),
        ),
        (
            "bitcoin-proof-nested-proof",
            "§8.2: no nested proof object",
            "PROOF_MALFORMED",
            _edit(lambda b: s("anchors.1.proof.proof", copy.deepcopy(b["anchors"][1]["proof"]))(b)),
        ),
        (
            "bitcoin-proof-without-block-hash",
            "§8.2, §14 step 13 bitcoin.1: block_hash is required",
            "PROOF_MALFORMED",
            _edit(s("anchors.1.proof.block_hash", _DELETE)),
        ),
        (
            "bitcoin-txid-uppercase",
            "§1, §8.2: hex in the bitcoin proof is lowercase",
            "PROOF_MALFORMED",
            _edit(lambda b: s("anchors.1.proof.txid", b["anchors"][1]["proof"]["txid"].upper())(b)),
        ),
        (
            "bitcoin-height-negative",
            "§8.2, §14 step 13 bitcoin.1: height is a non-negative integer",
            "PROOF_MALFORMED",
            _edit(s("anchors.1.proof.height", -3)),
        ),
        (
            "bitcoin-raw-tx-with-witness",
            "§8.2, §14 step 13 bitcoin.1: raw_tx without witness",
            "PROOF_MALFORMED",
            _edit(_tx_with_witness),
        ),
        (
            "bitcoin-header-not-the-nodes",
            "§14 step 13 bitcoin.2: the node's header at height equals proof.header",
            "ANCHOR_INVALID",
            _edit(s("anchors.1.proof.height", 2)),
        ),
        (
            "bitcoin-header-not-given",
            "§14 step 13 bitcoin.2: proof.header is one of the given headers",
            "ANCHOR_INVALID",
            _inputs(
                lambda i, b: replace(
                    i, headers_mode="given", headers={h: v for h, v in b.headers.items() if h != 3}
                )
            ),
        ),
        (
            "bitcoin-block-hash-other",
            "§14 step 13 bitcoin.3: block_hash is the header's hash",
            "PROOF_BITCOIN_MISMATCH",
            _edit(s("anchors.1.proof.block_hash", "00" * 32)),
        ),
        (
            "bitcoin-raw-tx-64-bytes",
            "§8.2, §14 step 13 bitcoin.3: a 64-byte raw_tx is refused",
            "PROOF_BITCOIN_MISMATCH",
            _edit(s("anchors.1.proof.raw_tx", "ab" * 64)),
        ),
        (
            "bitcoin-raw-tx-not-transaction",
            "§14 step 13 bitcoin.3: raw_tx parses as a transaction",
            "PROOF_MALFORMED",
            _edit(s("anchors.1.proof.raw_tx", "00")),
        ),
        (
            "bitcoin-txid-other",
            "§14 step 13 bitcoin.3: raw_tx hashes to txid",
            "PROOF_BITCOIN_MISMATCH",
            _edit(s("anchors.1.proof.txid", "00" * 32)),
        ),
        (
            "bitcoin-prefix-other",
            "§8.2, §14 step 13 bitcoin.3: an output OP_RETURN <prefix ‖ root>",
            "PROOF_BITCOIN_MISMATCH",
            _edit(s("anchors.1.prefix", "4e54524e")),
        ),
        (
            "bitcoin-op-return-too-long",
            "§8.2, §14 step 13 bitcoin.3: prefix ‖ root at most 80 bytes",
            "PROOF_MALFORMED",
            _edit(s("anchors.1.prefix", "00" * 49)),
        ),
        (
            "bitcoin-tx-index-beyond-branch",
            "§8.2, §14 step 13 bitcoin.3: tx_index has no bits beyond the branch",
            "PROOF_MALFORMED",
            _edit(s("anchors.1.proof.tx_index", 2)),
        ),
        (
            "bitcoin-merkle-branch-sibling-altered",
            "§8.2, §14 step 13 bitcoin.3: the branch leads to the header's Merkle root",
            "PROOF_BITCOIN_MISMATCH",
            _edit(s("anchors.1.proof.merkle_branch.0", "00" * 32)),
        ),
        (
            "bitcoin-merkle-branch-too-long",
            "§8.2, §14 step 13 bitcoin.3: at most 32 branch hashes",
            "PROOF_MALFORMED",
            _edit(
                lambda b: s(
                    "anchors.1.proof.merkle_branch", b["anchors"][1]["proof"]["merkle_branch"] * 33
                )(b)
            ),
        ),
        (
            "rfc3161-anchor-subject-other",
            "§8.3, §14 step 13 rfc3161.1: subject is root or record",
            "PROOF_MALFORMED",
            _edit(s("anchors.2.subject", "batch")),
        ),
        (
            "rfc3161-anchor-without-chain",
            "§8.3, §14 step 13.3: exactly the kind's keys",
            "PROOF_MALFORMED",
            _edit(s("anchors.2.chain", _DELETE)),
        ),
        (
            "rfc3161-anchor-chain-pem-not-canonical",
            "§8.3, §14 step 13 rfc3161.1: chain PEM exactly as §1",
            "PROOF_MALFORMED",
            _edit(
                lambda b: b["anchors"][2]["chain"].__setitem__(
                    0, _pem_wrapped_76(b["anchors"][2]["chain"][0])
                )
            ),
        ),
        (
            "rfc3161-anchor-token-not-der",
            "§14 step 13 rfc3161.2: the token parses",
            "PROOF_MALFORMED",
            _edit(s("anchors.2.token", b64(b"not a token"))),
        ),
        (
            "rfc3161-anchor-subject-record-but-stamps-root",
            "§14 step 13 rfc3161.3: the imprint is the subject",
            "PROOF_TOKEN_MISMATCH",
            _edit(s("anchors.2.subject", "record")),
        ),
        (
            "rfc3161-anchor-tsr-gentime-altered",
            "§14 step 13 rfc3161.4: step 9 holds for the external token",
            "PROOF_TOKEN_SIGNATURE_INVALID",
            _external_altered,
        ),
        (
            "rfc3161-anchor-chain-without-root",
            "§8.3, §14 step 13 rfc3161.5: the path ends at a trusted or shipped root",
            "PROOF_CHAIN_INVALID",
            lambda base: (
                finish(
                    _with(
                        base.copy(),
                        s("anchors.2.chain", _anchor(base.bundle, "rfc3161")["chain"][:1]),
                    )
                ),
                replace(base.inputs, trust_roots=[pem(base.ca)]),
            ),
        ),
        (
            "rfc3161-anchor-chain-unused-certificate",
            "§8.3, §13.3, §14 step 13 rfc3161.6: every shipped certificate is on the path",
            "ANCHOR_INVALID",
            _edit(lambda b: b["anchors"][2]["chain"].append(pem(make_ca()))),
        ),
        # Step 14
        (
            "log-extra-key",
            "§9, §14 step 14.1: log has exactly tlog_proof",
            "PROOF_MALFORMED",
            _edit(s("log.index", 0), log=False),
        ),
        (
            "log-tlog-proof-not-string",
            "§14 step 14.1: tlog_proof is a string",
            "PROOF_MALFORMED",
            _edit(s("log.tlog_proof", ["c2sp.org/tlog-proof@v1"]), log=False),
        ),
        (
            "log-header-line-other",
            "§9, §14 step 14.2: first line c2sp.org/tlog-proof@v1",
            "TLOG_PROOF_MALFORMED",
            _edit(_tlog(lambda t: t.replace("tlog-proof@v1", "tlog-proof@v2", 1)), log=False),
        ),
        (
            "log-index-leading-zero",
            "§9, §14 step 14.2: index is a canonical decimal",
            "TLOG_PROOF_MALFORMED",
            _edit(_tlog(lambda t: t.replace("index 0\n", "index 00\n", 1)), log=False),
        ),
        (
            "log-hash-not-32-bytes",
            "§9, §14 step 14.2: proof hashes are 32 bytes",
            "TLOG_PROOF_MALFORMED",
            _edit(_tlog(lambda t: t.replace("index 0\n", "index 0\nAAAA\n", 1)), log=False),
        ),
        (
            "checkpoint-size-leading-zero",
            "§9, §14 step 14.2: size is a canonical decimal",
            "TLOG_PROOF_MALFORMED",
            _edit(_tlog(lambda t: t.replace("/log\n3\n", "/log\n03\n", 1)), log=False),
        ),
        (
            "checkpoint-signature-bit-flip",
            "§14 step 14.4: the log key's signature verifies",
            "NOTE_SIGNATURE_INVALID",
            _edit(_tlog(_flip_last_b64_char), log=False),
        ),
        (
            "checkpoint-signed-by-other-key",
            "§9, §14 step 14.4: a signature by the log's key is present",
            "NOTE_UNTRUSTED",
            _edit(_relog(signers=((ORIGIN, OTHER_KEY),)), log=False),
        ),
        (
            "checkpoint-origin-mismatch",
            "§9, §14 step 14.5: the origin is <key_name>/log",
            "CHECKPOINT_ORIGIN_MISMATCH",
            _edit(_relog(origin=f"{KEY_NAME}/other", signers=((ORIGIN, SERVICE_KEY),)), log=False),
        ),
        (
            "checkpoint-origin-other-log-self-signed",
            "§14 step 14.3: the key is named <key_name>/log, not the origin line",
            "NOTE_UNTRUSTED",
            _edit(
                _relog(origin=f"{KEY_NAME}/other", signers=((f"{KEY_NAME}/other", SERVICE_KEY),)),
                log=False,
            ),
        ),
        (
            "log-inclusion-wrong-index",
            "§14 step 14.6: the entry is at index under the root",
            "LOG_INCLUSION_INVALID",
            _edit(_tlog(lambda t: t.replace("index 0\n", "index 1\n", 1)), log=False),
        ),
        (
            "log-inclusion-hashes-swapped",
            "§14 step 14.6: the inclusion proof leads to the root",
            "LOG_INCLUSION_INVALID",
            _edit(_tlog(_swap_hashes), log=False),
        ),
        (
            "log-inclusion-index-beyond-size",
            "§14 step 14.6: index < size",
            "LOG_INCLUSION_INVALID",
            _edit(_tlog(lambda t: t.replace("index 0\n", "index 3\n", 1)), log=False),
        ),
        # Step 15
        (
            "chain-unused-certificate",
            "§5, §13.3, §14 step 15: every chain certificate is on the path",
            "PROOF_MALFORMED",
            _edit(_unused_chain_certificate),
        ),
        # Step 16
        (
            "seal-algorithm-other",
            "§10, §14 step 16: seal.algorithm is ed25519",
            "PROOF_MALFORMED",
            _edit(s("seal.algorithm", "ecdsa"), seal=False),
        ),
        (
            "seal-bit-flip",
            "§10, §14 step 16: the seal verifies over the rest",
            "PROOF_SEAL_INVALID",
            _edit(
                lambda b: s("seal.value", _flip_signature_byte(b["seal"]["value"]))(b), seal=False
            ),
        ),
        (
            "seal-stale-after-anchor-reorder",
            "§8, §10, §14 step 16: what no other check binds, the seal does",
            "PROOF_SEAL_INVALID",
            _edit(lambda b: b["anchors"].reverse(), seal=False),
        ),
        (
            "seal-stale-after-chain-pem-swap",
            "§10: the seal covers the chain's PEM text",
            "PROOF_SEAL_INVALID",
            _edit(lambda b: b["rfc3161"]["chain"].reverse(), seal=False),
        ),
    ]


def _uppercase_sha256(bundle: dict[str, Any]) -> None:
    bundle["record"]["sha256"] = bundle["record"]["sha256"].upper()
    bundle["hash"]["value"] = bundle["record"]["sha256"]


def _with(bundle: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    edit(bundle)
    return bundle


def _swap_hashes(text: str) -> str:
    lines = text.split("\n")
    lines[2], lines[3] = lines[3], lines[2]
    return "\n".join(lines)


def _valid() -> list[tuple[str, str, dict[str, Any], Mutation]]:
    """(name, description, expected, mutation) of the valid vectors."""

    def anchors(*pairs: str) -> list[dict[str, str]]:
        return [{"kind": k, "status": st} for k, st in (p.split(":") for p in pairs)]

    def ok(anchored: bool, log: bool, *pairs: str, checks: dict[str, str]) -> dict[str, Any]:
        return {
            "valid": True,
            "anchored": anchored,
            "log_included": log,
            "anchors": anchors(*pairs),
            "checks": {**dict.fromkeys(CHECKS, "passed"), **checks},
        }

    full = {"merkle": "passed", "anchors": "passed", "log": "passed"}
    no_header = _inputs(lambda i, b: replace(i, headers_mode="none", headers={}))
    return [
        (
            "valid-created",
            "A record just created: no log, batch or anchors yet.",
            ok(False, False, checks={"merkle": "absent", "anchors": "absent", "log": "absent"}),
            _edit(_created),
        ),
        (
            "valid-logged",
            "In the transparency log, not yet batched.",
            ok(False, True, checks={"merkle": "absent", "anchors": "absent", "log": "passed"}),
            _edit(_logged),
        ),
        (
            "valid-ots-pending",
            "Batched; the calendar's attestation is still pending.",
            ok(
                False,
                True,
                "ots:pending",
                checks={"merkle": "passed", "anchors": "pending", "log": "passed"},
            ),
            _edit(_pending),
        ),
        (
            "valid-all-anchors",
            "Fully anchored; headers from a trusted height source.",
            ok(True, True, "ots:verified", "bitcoin:verified", "rfc3161:verified", checks=full),
            _edit(lambda b: None),
        ),
        (
            "valid-all-anchors-given-headers",
            "Fully anchored; headers given by hand.",
            ok(True, True, "ots:verified", "bitcoin:verified", "rfc3161:verified", checks=full),
            _inputs(lambda i, b: replace(i, headers_mode="given")),
        ),
        (
            "valid-all-anchors-without-headers",
            "Fully anchored; no header source: Bitcoin evidence unchecked.",
            ok(True, True, "ots:unchecked", "bitcoin:unchecked", "rfc3161:verified", checks=full),
            no_header,
        ),
        (
            "valid-all-anchors-notary-ca-only",
            "Fully anchored, checked with the notary CA alone and no headers: nothing "
            "verified beyond the notary, still valid.",
            ok(
                False,
                True,
                "ots:unchecked",
                "bitcoin:unchecked",
                "rfc3161:unchecked",
                checks={"merkle": "passed", "anchors": "pending", "log": "passed"},
            ),
            _inputs(
                lambda i, b: replace(i, headers_mode="none", headers={}, trust_roots=[pem(b.ca)])
            ),
        ),
        (
            "valid-ots-only",
            "Anchored by OpenTimestamps alone.",
            ok(True, True, "ots:verified", checks=full),
            _edit(_only("ots")),
        ),
        (
            "valid-bitcoin-only",
            "Anchored by an OP_RETURN transaction alone.",
            ok(True, True, "bitcoin:verified", checks=full),
            _edit(_only("bitcoin")),
        ),
        (
            "valid-external-tsa-only",
            "Anchored by an external TSA alone, its root trusted.",
            ok(True, True, "rfc3161:verified", checks=full),
            _edit(_only("rfc3161")),
        ),
        (
            "valid-external-tsa-root-not-trusted",
            "Anchored by an external TSA whose root the verifier does not trust: "
            "unchecked, not fatal.",
            ok(
                False,
                True,
                "rfc3161:unchecked",
                checks={"merkle": "passed", "anchors": "pending", "log": "passed"},
            ),
            lambda base: (
                finish(_with(base.copy(), _only("rfc3161"))),
                replace(base.inputs, trust_roots=[pem(base.ca)]),
            ),
        ),
        (
            "valid-without-file-hash",
            "No file hash given: the proof's own consistency only.",
            ok(
                True,
                True,
                "ots:verified",
                "bitcoin:verified",
                "rfc3161:verified",
                checks={**full, "file_hash": "skipped"},
            ),
            _inputs(lambda i, b: replace(i, file_sha256=None)),
        ),
        (
            "valid-without-service-key",
            "No service key pinned.",
            ok(
                True,
                True,
                "ots:verified",
                "bitcoin:verified",
                "rfc3161:verified",
                checks={**full, "service_key": "skipped"},
            ),
            _inputs(lambda i, b: replace(i, service_public_keys=[])),
        ),
    ]


CHECKS = (
    "format",
    "structure",
    "file_hash",
    "record_signature",
    "service_key",
    "token_binding",
    "token_signature",
    "tsa_certificate",
    "chain",
    "merkle",
    "anchors",
    "log",
)


def _proof_bytes(made: bytes | dict[str, Any]) -> bytes:
    return made if isinstance(made, bytes) else canonical(made)


def build_vectors() -> dict[str, str]:
    """File name → file text, for every vector and the index."""
    base = Base()
    vectors: list[Vector] = []
    for name, description, expected, mutate in _valid():
        made, inputs = mutate(base)
        vectors.append(
            Vector(
                name,
                description,
                "a valid proof",
                expected,
                _proof_bytes(made),
                inputs or base.inputs,
            )
        )
    for name, rule, code, mutate in _mutations():
        made, inputs = mutate(base)
        vectors.append(
            Vector(
                name,
                f"The base proof with this one change: {name.replace('-', ' ')}.",
                rule,
                {"valid": False, "code": code},
                _proof_bytes(made),
                inputs or base.inputs,
            )
        )
    files = {
        f"{v.name}.json": json.dumps(v.to_json(), indent=2, ensure_ascii=False, sort_keys=True)
        + "\n"
        for v in vectors
    }
    index = {
        "format": "notarium-proof-vectors",
        "version": 1,
        "base": "docs/proof-format.md §17, notary token re-signed by the vectors' own TSA",
        "vectors": [
            {"file": f"{v.name}.json", "valid": v.expected["valid"], "code": v.expected.get("code")}
            for v in vectors
        ],
    }
    files["index.json"] = json.dumps(index, indent=2, sort_keys=True) + "\n"
    return files


def main() -> None:
    out = HERE / "cases"
    out.mkdir(exist_ok=True)
    files = build_vectors()
    for stale in out.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
