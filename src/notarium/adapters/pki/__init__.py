"""Key and certificate material: a private CA, the TSA certificate and signing keys."""

from notarium.adapters.pki.keystore import KeyStore

__all__ = ["KeyStore"]
