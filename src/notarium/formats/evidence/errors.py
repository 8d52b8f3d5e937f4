"""What can go wrong while packaging or checking evidence."""

from __future__ import annotations

from notarium.core.errors import NotariumError, ProofVerificationError


class EvidenceBuildError(NotariumError):
    """The capture produced nothing that can be certified (no exchanges, an empty HAR,
    a screenshot that is not a PNG). The certificate route answers ``certification_failed``."""

    code = "certification_failed"


class EvidenceKeyError(NotariumError):
    """The WACZ signing key or the CA it is certified under cannot be read or written."""

    code = "CONFIGURATION_ERROR"


class EvidencePackageError(ProofVerificationError):
    """An evidence package cannot even be opened: not a ZIP, or a hostile one."""

    code = "EVIDENCE_PACKAGE_INVALID"


class WaczSignatureError(ProofVerificationError):
    """A ``datapackage-digest.json`` signature does not check out."""

    code = "WACZ_SIGNATURE_INVALID"
