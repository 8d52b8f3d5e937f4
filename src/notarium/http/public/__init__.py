"""Public pages: verification, PDF check, assisted capture."""
