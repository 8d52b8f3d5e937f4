"""How captures are made: the values an operator sets through ``NOTARIUM_CAPTURE_*``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_CHROMIUM = Path("/usr/bin/chromium")


@dataclass(frozen=True)
class PoolOptions:
    """The browsers: how many, where from, and how long a capture may wait for one."""

    slots: int = 2
    queue_timeout: float = 30.0
    executable_path: Path = DEFAULT_CHROMIUM
    launch_timeout: float = 30.0
    recycle_after: int = 100
    """Captures a browser serves before it is replaced, so slow leaks never accumulate."""
    extra_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.slots < 1:
            raise ValueError("a browser pool needs at least one slot")
        if self.queue_timeout < 0:
            raise ValueError("the queue timeout cannot be negative")


@dataclass(frozen=True)
class CaptureOptions:
    """One capture: its budget and the browser it presents to the site."""

    timeout: float = 60.0
    """Seconds from the start of a capture to its result, whatever the page does."""
    viewport: tuple[int, int] = (1280, 800)
    user_agent: str | None = None
    """``None``: the desktop Chrome user agent of the browser's own version."""
    locale: str = "en-US"
    challenge_wait: float = 5.0
    """Seconds a detected challenge page gets to clear itself (JS challenges often do)."""
    assisted_ttl: float = 600.0
    """Seconds an assisted-capture session stays open without being certified."""
    max_scroll_height: int = 30_000
    """Auto-scrolling stops here: endless feeds would otherwise never end."""

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("the capture timeout must be positive")
        width, height = self.viewport
        if width < 200 or height < 200:
            raise ValueError("the viewport must be at least 200x200")


def default_user_agent(browser_version: str) -> str:
    """Chrome's reduced desktop user agent for ``browser_version`` (its major number only,
    as Chrome itself sends), without the ``HeadlessChrome`` token headless mode adds."""
    major = browser_version.split(".", 1)[0] or "0"
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )
