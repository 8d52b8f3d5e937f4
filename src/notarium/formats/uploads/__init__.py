"""Uploaded files: what their content is, and whether it may be accepted."""
