"""Builds, signs and time-stamps a capture's evidence package."""
