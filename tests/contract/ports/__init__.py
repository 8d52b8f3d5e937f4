"""Behavioural contracts of the ports: each runs against the real implementation and its fake."""
