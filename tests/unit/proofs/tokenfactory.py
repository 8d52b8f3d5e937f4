"""Throwaway TSA hierarchies and real RFC 3161 tokens for the proof tests.

Tokens are issued by OpenSSL's own ``ts -reply`` so the verifier is tested
against an independent implementation. Where OpenSSL refuses to produce the
malformed token a test needs (it will not sign with a non-critical EKU, for
instance), ``resign_token`` rebuilds the CMS signature around an OpenSSL TSTInfo.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OPENSSL = "/usr/bin/openssl"
POLICY_OID = "1.2.3.4.5.6.7"
# DER of POLICY_OID; appears once in a token, inside TSTInfo.
POLICY_OID_DER = bytes.fromhex("06062a0304050607")


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Notarium Tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _window(not_before: datetime | None, not_after: datetime | None) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return (
        not_before or now - timedelta(days=1),
        not_after or now + timedelta(days=365),
    )


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def make_ca(
    common_name: str = "Notarium Test Root CA",
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> Issued:
    key = key or ec.generate_private_key(ec.SECP384R1())
    start, end = _window(not_before, not_after)
    name = _name(common_name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA384())
    )
    return Issued(cert, key)


def make_tsa(
    ca: Issued,
    common_name: str = "Notarium Test TSA",
    *,
    eku_critical: bool = True,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> Issued:
    key = key or ec.generate_private_key(ec.SECP256R1())
    start, end = _window(not_before, not_after)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=eku_critical
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA384())
    )
    return Issued(cert, key)


_TSA_CNF = f"""\
[tsa]
default_tsa = tsa_config

[tsa_config]
dir = .
serial = ./serial
crypto_device = builtin
default_policy = {POLICY_OID}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
signer_digest = sha256
"""


class OpenSSLTsa:
    """An OpenSSL ``ts -reply`` authority over a CA/TSA pair, in its own directory."""

    def __init__(self, workdir: Path, ca: Issued, tsa: Issued) -> None:
        self.workdir = workdir
        self.ca = ca
        self.tsa = tsa
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "ca.pem").write_bytes(ca.pem)
        (workdir / "tsa.pem").write_bytes(tsa.pem)
        (workdir / "tsa.key").write_bytes(tsa.key_pem)
        (workdir / "tsa.cnf").write_text(_TSA_CNF)
        (workdir / "serial").write_text("01\n")
        self._count = 0

    @property
    def chain_pem(self) -> bytes:
        return self.tsa.pem + self.ca.pem

    def _run(self, *args: str) -> None:
        subprocess.run(
            [OPENSSL, "ts", *args],
            cwd=self.workdir,
            check=True,
            capture_output=True,
        )

    def issue(self, data: bytes, *, include_certs: bool = True) -> bytes:
        """Time-stamp ``data`` (SHA-256) and return the DER TimeStampToken."""
        self._count += 1
        n = self._count
        (self.workdir / f"data{n}").write_bytes(data)
        query = ["-query", "-data", f"data{n}", "-sha256", "-out", f"q{n}.tsq"]
        if include_certs:
            query.insert(-2, "-cert")
        self._run(*query)
        self._run(
            "-reply", "-queryfile", f"q{n}.tsq", "-signer", "tsa.pem", "-inkey", "tsa.key",
            "-chain", "ca.pem", "-config", "tsa.cnf", "-out", f"r{n}.tsr",
        )  # fmt: skip
        self._run("-reply", "-in", f"r{n}.tsr", "-token_out", "-out", f"t{n}.der")
        return (self.workdir / f"t{n}.der").read_bytes()


def resign_token(
    token_der: bytes,
    *,
    key: ec.EllipticCurvePrivateKey,
    signer_cert: x509.Certificate,
    certificates: Sequence[x509.Certificate],
    gen_time: datetime | None = None,
    ess_cert: x509.Certificate | None = None,
) -> bytes:
    """Rebuild a token's SignedData around its TSTInfo with a new signature.

    ``gen_time`` replaces the TSTInfo genTime; ``ess_cert`` is the certificate the
    signing-certificate-v2 attribute names (default: ``signer_cert``).
    """
    content = cms.ContentInfo.load(token_der)["content"]
    tst_info = tsp.TSTInfo.load(bytes(content["encap_content_info"]["content"]))
    if gen_time is not None:
        tst_info["gen_time"] = core.GeneralizedTime(gen_time)
    tst_der = tst_info.dump(force=True)

    signer_der = signer_cert.public_bytes(serialization.Encoding.DER)
    named_der = (ess_cert or signer_cert).public_bytes(serialization.Encoding.DER)
    signer_asn1 = asn1_x509.Certificate.load(signer_der)
    signed_attrs = cms.CMSAttributes(
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
                            {"certs": [{"cert_hash": hashlib.sha256(named_der).digest()}]}
                        )
                    ],
                }
            ),
        ]
    )
    signature = key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
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
            "signed_attrs": signed_attrs,
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
    token: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return token


def flip_byte(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]
