"""Transparency-log formats: RFC 6962 tree, C2SP signed notes, checkpoints, tlog-proof files."""
