"""Pure, offline byte formats notarium issues and accepts. No database, network or web framework."""
