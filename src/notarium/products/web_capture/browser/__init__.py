"""The headless-browser capture engine (Playwright): a URL in, what the browser saw out."""
