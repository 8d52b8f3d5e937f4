"""Certificate PDFs for any kind of record: render, embed the proofs, seal.

Web captures and every hash-record family call the same :meth:`CertificateBuilder.build`
with their own facts, extra sections and attached files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from notarium.core.clock import Clock
from notarium.products.certificate_pdf.facts import Attachment, CertificateFacts, Section
from notarium.products.certificate_pdf.instructions import default_instructions

if TYPE_CHECKING:
    from notarium.products.pdf_seal.sealer import Sealer


class CertificateBuilder:
    """Builds sealed certificate PDFs with the service's PAdES seal (B-T).

    ``sealer`` may be a function that makes it: reportlab and pyHanko are then loaded by
    the first certificate, not by every process that merely wires the services up."""

    def __init__(
        self, sealer: Sealer | Callable[[], Sealer], clock: Clock, *, chain_url: str | None = None
    ) -> None:
        self._make_sealer = sealer
        self._clock = clock
        self._chain_url = chain_url

    @property
    def _sealer(self) -> Sealer:
        made = self._make_sealer
        return made() if callable(made) else made

    def build(
        self,
        facts: CertificateFacts,
        *,
        attachments: Sequence[Attachment] = (),
        sections: Sequence[Section] = (),
        instructions: Sequence[str] | None = None,
    ) -> bytes:
        """The sealed certificate. ``instructions`` replaces the default steps for
        checking it offline (which mention only the attachments actually carried)."""
        from notarium.products.certificate_pdf.attachments import embed_attachments
        from notarium.products.certificate_pdf.render import render_certificate

        steps = (
            tuple(instructions)
            if instructions is not None
            else default_instructions(facts, attachments, chain_url=self._chain_url)
        )
        unsigned = render_certificate(facts, sections=sections, instructions=steps)
        with_files = embed_attachments(unsigned, attachments, when=self._clock.now())
        return self._sealer.seal(
            with_files, reason=f"Certificate {facts.certificate_id}", level="B-T"
        )
