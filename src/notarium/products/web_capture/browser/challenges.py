"""Is the page a bot-protection challenge rather than the page itself?

Judged from what the browser ended up showing: the final main document's status and
headers and the rendered page. Vendor markers that every page behind a vendor carries
(Cloudflare's ``cf-ray`` and JS-detection script, Imperva's ``X-Iinfo`` and
``incap_ses`` cookies, DataDome's tag, an invisible reCAPTCHA v3) do not make a page a
challenge on their own; only the markers of the challenge or block pages themselves
do, or a vendor marker together with a challenge status. A captcha widget counts when
it is the page: shown on an otherwise bare page (no password field, no text inputs,
little text) or under a challenge status, not when it guards a login or contact form.
A consent banner is never a challenge, and neither is an ordinary 403, 404 or 500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

CHALLENGE_STATUSES = frozenset({403, 429, 503})

CLOUDFLARE_TITLES = (
    "just a moment...",
    "just a moment…",
    "attention required! | cloudflare",
    "please wait...",
    "one moment, please...",
)
CLOUDFLARE_PAGE_MARKERS = (
    "_cf_chl_opt",
    "/cdn-cgi/challenge-platform/h/",
    "cf-browser-verification",
    "cf_chl_prog",
    "cf-challenge-running",
    'id="challenge-form"',
)
CHALLENGE_PHRASES = (
    "verify you are human",
    "verify that you are human",
    "verifying you are human",
    "confirm you are human",
    "prove you are human",
    "prove you're human",
    "are you a robot",
    "i'm not a robot",
    "not a robot",
    "checking your browser",
    "checking if the site connection is secure",
    "human verification",
    "complete the security check",
    "unusual traffic from your computer network",
    "press & hold",
    "press and hold",
)
BARE_PAGE_TEXT = 1500
"""Characters of visible text below which a page with nothing else but a widget is bare."""

_TURNSTILE = re.compile(r"challenges\.cloudflare\.com/turnstile|class=[\"'][^\"']*\bcf-turnstile\b")
_HCAPTCHA = re.compile(r"hcaptcha\.com/1/api\.js|class=[\"'][^\"']*\bh-captcha\b")
_RECAPTCHA = re.compile(
    r"class=[\"'][^\"']*\bg-recaptcha\b|/recaptcha/(api2|enterprise)/anchor\?(?![^\"']*size=invisible)"
)


@dataclass(frozen=True)
class PageFacts:
    """What detection looks at, gathered from the live page in one go."""

    status: int
    headers: Mapping[str, str]  # of the final main document, names in lower case
    title: str
    html: str
    text: str  # the body's visible text (innerText)
    password_fields: int = 0
    text_inputs: int = 0  # visible text-like inputs and textareas
    widgets: tuple[str, ...] = field(default=())
    """Kinds of captcha widget shown at a usable size: "turnstile", "hcaptcha", "recaptcha"."""


def detect_challenge(facts: PageFacts) -> str | None:
    """The kind of protection the page is a challenge of, or ``None`` for a real page."""
    headers = {name.lower(): value for name, value in facts.headers.items()}
    html = facts.html.lower()
    text = facts.text.lower()
    title = facts.title.strip().lower()
    status = facts.status
    challenge_status = status in CHALLENGE_STATUSES
    server = headers.get("server", "").lower()
    cookies = headers.get("set-cookie", "").lower()

    if headers.get("cf-mitigated", "").lower() == "challenge":
        return "cloudflare"
    if headers.get("x-amzn-waf-action", "").lower() in ("captcha", "challenge"):
        return "aws_waf"
    cloudflare_page = any(marker in html for marker in CLOUDFLARE_PAGE_MARKERS)
    cloudflare_served = "cf-ray" in headers or server == "cloudflare"
    if cloudflare_page and (title in CLOUDFLARE_TITLES or challenge_status or cloudflare_served):
        return "cloudflare"
    if title in CLOUDFLARE_TITLES and cloudflare_served and challenge_status:
        return "cloudflare"

    if "_incapsula_resource" in html or "incapsula incident id" in text:
        return "imperva"
    imperva_served = "x-iinfo" in headers or "incap_ses" in cookies or "visid_incap" in cookies
    if imperva_served and challenge_status and len(facts.text) < BARE_PAGE_TEXT:
        return "imperva"

    if "captcha-delivery.com" in html:
        return "datadome"
    if ("x-datadome" in headers or "x-dd-b" in headers) and status in (403, 429):
        return "datadome"

    if "px-captcha" in html or "captcha.px-cdn.net" in html or "captcha.px-cloud.net" in html:
        return "perimeterx"

    if (
        status == 403
        and "akamaighost" in server
        and "reference #" in text
        and "access denied" in f"{title} {text}"
    ):
        return "akamai"

    widget = _widget(facts, html)
    if widget is not None:
        bare = (
            facts.password_fields == 0
            and facts.text_inputs == 0
            and len(facts.text.strip()) < BARE_PAGE_TEXT
        )
        asks = facts.password_fields == 0 and any(phrase in text for phrase in CHALLENGE_PHRASES)
        if challenge_status or bare or asks:
            return widget

    bare_text = len(facts.text.strip()) < BARE_PAGE_TEXT
    if challenge_status and bare_text and any(p in f"{title} {text}" for p in CHALLENGE_PHRASES):
        return "challenge"
    return None


def _widget(facts: PageFacts, html: str) -> str | None:
    """The captcha shown on the page, preferring what the browser measured as visible."""
    if facts.widgets:
        return facts.widgets[0]
    # Markup alone (a page whose widget failed to render still is a challenge page).
    if _TURNSTILE.search(html):
        return "turnstile"
    if _HCAPTCHA.search(html):
        return "hcaptcha"
    if _RECAPTCHA.search(html):
        return "recaptcha"
    return None


# Gathers PageFacts in the page: one round trip. Widgets count when their box is at least
# 30x30 CSS pixels (reCAPTCHA v3 and invisible widgets are smaller or hidden).
FACTS_SCRIPT = """
() => {
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden'
      && style.display !== 'none';
  };
  const big = (el) => {
    const box = el.getBoundingClientRect();
    return visible(el) && box.width >= 30 && box.height >= 30;
  };
  const kinds = [
    ['turnstile', '.cf-turnstile, iframe[src*="challenges.cloudflare.com"]'],
    ['hcaptcha', '.h-captcha, iframe[src*="hcaptcha.com"]'],
    ['recaptcha', '.g-recaptcha, iframe[src*="/recaptcha/api2/anchor"], '
      + 'iframe[src*="/recaptcha/enterprise/anchor"]'],
  ];
  const widgets = [];
  for (const [kind, selector] of kinds) {
    if ([...document.querySelectorAll(selector)].some(big)) widgets.push(kind);
  }
  const inputs = [...document.querySelectorAll(
    'input:not([type]), input[type=text], input[type=email], input[type=search], '
    + 'input[type=tel], input[type=number], input[type=url], textarea')].filter(visible);
  const passwords = [...document.querySelectorAll('input[type=password]')].filter(visible);
  return {
    html: document.documentElement ? document.documentElement.outerHTML : '',
    title: document.title || '',
    text: document.body ? document.body.innerText || '' : '',
    passwordFields: passwords.length,
    textInputs: inputs.length,
    widgets,
  };
}
"""
