"""Web capture certificates: a URL captured in a browser, its evidence signed, time-stamped
and entered into the pipeline, and served back as a sealed certificate PDF."""
