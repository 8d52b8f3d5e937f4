"""Foundation: the exception root, the clock, hashing. Imports nothing else of notarium."""
