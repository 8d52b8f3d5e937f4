"""Web page capture: a URL in, the evidence a browser saw out.

``engine.PlaywrightCaptureEngine`` (over ``browser_pool.BrowserPool``) is the real engine;
``ports.CaptureEngine`` is what the rest of notarium depends on and ``result`` holds the
values it returns. Nothing is imported here, so using the values never loads Playwright.
"""
