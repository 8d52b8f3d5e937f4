"""Errors raised while creating or loading key material."""

from __future__ import annotations

from notarium.core.errors import ConfigurationError


class KeyStoreError(ConfigurationError):
    """The key directory is unusable: missing, unreadable or inconsistent material."""

    code = "KEYSTORE_ERROR"


class KeyMaterialMissingError(KeyStoreError):
    code = "KEY_MATERIAL_MISSING"


class InconsistentKeyMaterialError(KeyStoreError):
    """A file exists without the file it was derived from, or keys do not match."""

    code = "KEY_MATERIAL_INCONSISTENT"
