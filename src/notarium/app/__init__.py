"""The composition root: settings, runtime, bootstrap, background workers."""
