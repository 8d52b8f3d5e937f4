"""Scrolling the page to its end and back, so lazily loaded content is in the capture.

Images with ``loading=lazy``, infinite lists and "reveal on scroll" sections only load
once they come near the viewport. The page is walked down a viewport at a time, pausing
so observers fire and requests start, until the bottom stops moving away, the time
allowed is spent, or ``max_height`` is reached (an endless feed has no bottom); then it
returns to the top, where the screenshot begins.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

_SCROLL_SCRIPT = """
async ({maxMs, maxHeight, pause}) => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const started = performance.now();
  const scroller = document.scrollingElement || document.documentElement;
  const height = () => Math.max(scroller.scrollHeight,
    document.body ? document.body.scrollHeight : 0);
  let steps = 0;
  let bottom = false;
  // A page that fits the viewport has nothing out of view to bring in.
  if (height() <= window.innerHeight + 2) return {steps, height: height(), bottom: true};
  while (performance.now() - started < maxMs) {
    const step = Math.max(200, Math.floor(window.innerHeight * 0.85));
    const target = Math.min(window.scrollY + step, maxHeight);
    window.scrollTo(0, target);
    steps += 1;
    await sleep(pause);
    const end = Math.min(height(), maxHeight);
    if (window.scrollY + window.innerHeight >= end - 2) {
      // At the end: give the page one more pause to append content before stopping.
      await sleep(pause * 2);
      if (Math.min(height(), maxHeight) <= end || end >= maxHeight) { bottom = true; break; }
    }
  }
  return {steps, height: height(), bottom};
}
"""


@dataclass(frozen=True)
class Scrolled:
    steps: int
    height: int
    reached_bottom: bool


async def scroll_through(
    page: Page, *, seconds: float, max_height: int, pause_ms: int = 120
) -> Scrolled:
    if seconds <= 0:
        return Scrolled(0, 0, False)
    try:
        outcome = await page.evaluate(
            _SCROLL_SCRIPT,
            {"maxMs": seconds * 1000, "maxHeight": max_height, "pause": pause_ms},
        )
    except PlaywrightError:
        return Scrolled(0, 0, False)  # The page navigated away meanwhile; nothing to walk.
    return Scrolled(int(outcome["steps"]), int(outcome["height"]), bool(outcome["bottom"]))


async def scroll_to_top(page: Page) -> None:
    with contextlib.suppress(PlaywrightError):
        await page.evaluate("() => window.scrollTo(0, 0)")
