"""notarium: a self-hostable digital notary."""

__version__ = "0.1.0"
