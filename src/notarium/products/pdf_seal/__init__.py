"""PAdES seals of uploaded PDFs, time-stamped by the built-in TSA."""
