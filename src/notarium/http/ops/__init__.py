"""Operator and protocol routes: admin, /tsa, log, pki."""
