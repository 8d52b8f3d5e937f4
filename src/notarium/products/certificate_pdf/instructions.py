"""Steps for checking a certificate without the service, worded for the files it carries."""

from __future__ import annotations

from collections.abc import Sequence

from notarium.products.certificate_pdf.facts import Attachment, CertificateFacts


def default_instructions(
    facts: CertificateFacts, attachments: Sequence[Attachment], *, chain_url: str | None
) -> tuple[str, ...]:
    """Plain-text steps; commands are wrapped in backquotes for the renderer to set in a
    monospaced face. Only files the certificate actually carries are mentioned."""
    names = {a.name for a in attachments}
    proof = next((n for n in sorted(names) if n.endswith(".proof.json")), None)
    token = next((n for n in sorted(names) if n.endswith(".tsr")), None)
    ots = next((n for n in sorted(names) if n.endswith(".ots")), None)
    steps = [
        "Hash your copy of the file and compare the result with the SHA-256 above: "
        "`sha256sum FILE` (on macOS `shasum -a 256 FILE`).",
    ]
    if names:
        steps.append(
            f"Save the files embedded in this PDF ({', '.join(sorted(names))}) from your "
            "viewer's attachments panel, or with `pdfdetach -saveall certificate.pdf`."
        )
    if token is not None:
        where = f" (published at {chain_url})" if chain_url else ""
        steps.append(
            f"Check the RFC 3161 time-stamp: `openssl ts -verify -in {token} -data FILE "
            f"-CAfile ca.pem -untrusted chain.pem`, where chain.pem is the TSA chain{where} "
            f"and ca.pem the {facts.organisation} CA certificate from a source you trust."
        )
    if ots is not None:
        steps.append(
            f"Check the OpenTimestamps proof against Bitcoin: `ots verify -f FILE {ots}` "
            "(with a Bitcoin node, or compare the block's Merkle root by hand)."
        )
    if proof is not None:
        steps.append(
            f"Check everything at once, offline: `notarium verify FILE {proof} --trust ca.pem` "
            "checks the hash, the time-stamp, the service signature, the Merkle path, the "
            "anchors and the transparency-log inclusion."
        )
    steps.append(
        f"This PDF is itself sealed by {facts.organisation} (PAdES, time-stamped): your PDF "
        "reader's signature panel, `pdfsig certificate.pdf` or `pyhanko sign validate "
        "--trust ca.pem certificate.pdf` shows whether any byte changed since."
    )
    return tuple(steps)
