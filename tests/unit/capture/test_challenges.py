"""Bot-protection detection on page facts: each vendor's challenge page is recognised,
and what every page behind that vendor carries, or an ordinary error page, is not."""

from __future__ import annotations

import pytest

from notarium.products.web_capture.browser.challenges import PageFacts, detect_challenge


def facts(
    html: str = "<html><body><h1>A page</h1></body></html>",
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    title: str = "A page",
    text: str = "A page with an ordinary amount of text. " * 60,
    password_fields: int = 0,
    text_inputs: int = 0,
    widgets: tuple[str, ...] = (),
) -> PageFacts:
    return PageFacts(
        status=status,
        headers=headers or {},
        title=title,
        html=html,
        text=text,
        password_fields=password_fields,
        text_inputs=text_inputs,
        widgets=widgets,
    )


CHALLENGES = {
    "cloudflare header": (
        facts(status=403, headers={"cf-mitigated": "challenge", "server": "cloudflare"}),
        "cloudflare",
    ),
    "cloudflare interstitial": (
        facts(
            "<script>window._cf_chl_opt={cType:'managed'}</script>",
            status=403,
            headers={"server": "cloudflare", "cf-ray": "8a1b-FRA"},
            title="Just a moment...",
            text="Checking if the site connection is secure",
        ),
        "cloudflare",
    ),
    "cloudflare orchestrate script on a 200": (
        facts(
            "<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script>",
            title="Just a moment...",
            text="",
        ),
        "cloudflare",
    ),
    "cloudflare old block page": (
        facts(
            "<div class='cf-browser-verification'></div>",
            status=403,
            title="Attention Required! | Cloudflare",
            text="Please complete the security check to access example.com",
        ),
        "cloudflare",
    ),
    "turnstile page": (
        facts(
            "<div class='cf-turnstile' data-sitekey='x'></div>",
            title="Security check",
            text="Verify you are human",
            widgets=("turnstile",),
        ),
        "turnstile",
    ),
    "hcaptcha markup without a rendered widget": (
        facts("<div class=\"h-captcha\" data-sitekey='x'></div>", title="One more step", text=""),
        "hcaptcha",
    ),
    "recaptcha under 429": (
        facts(
            "<div class='g-recaptcha'></div>",
            status=429,
            text="Our systems have detected unusual traffic from your computer network.",
            widgets=("recaptcha",),
        ),
        "recaptcha",
    ),
    "imperva resource": (
        facts("<iframe src='/_Incapsula_Resource?CWUDNSAI=23'></iframe>", text=""),
        "imperva",
    ),
    "imperva incident": (
        facts(status=403, text="Request unsuccessful. Incapsula incident ID: 1234-5678"),
        "imperva",
    ),
    "imperva headers under 403 with a bare page": (
        facts(status=403, headers={"x-iinfo": "7-123"}, text="Forbidden"),
        "imperva",
    ),
    "datadome block": (
        facts("<script>var dd={'host':'geo.captcha-delivery.com'}</script>", status=403, text=""),
        "datadome",
    ),
    "datadome headers under 403": (
        facts(status=403, headers={"x-datadome": "protected"}, text="Blocked"),
        "datadome",
    ),
    "perimeterx": (
        facts("<div id='px-captcha'></div>", status=403, text="Press & Hold"),
        "perimeterx",
    ),
    "akamai": (
        facts(
            status=403,
            headers={"server": "AkamaiGHost"},
            title="Access Denied",
            text="You don't have permission. Reference #18.3c2e4917.1700000000.1a2b3c4d",
        ),
        "akamai",
    ),
    "aws waf": (facts(status=405, headers={"x-amzn-waf-action": "captcha"}), "aws_waf"),
    "generic challenge status and wording": (
        facts(status=503, title="Checking your browser", text="Checking your browser..."),
        "challenge",
    ),
}


@pytest.mark.parametrize(("page", "kind"), CHALLENGES.values(), ids=CHALLENGES.keys())
def test_challenge_pages_are_recognised(page: PageFacts, kind: str) -> None:
    assert detect_challenge(page) == kind


NOT_CHALLENGES = {
    "ordinary page": facts(),
    "ordinary 403": facts(status=403, title="403 Forbidden", text="Forbidden"),
    "ordinary 404": facts(status=404, title="Not Found", text="This page is gone."),
    "ordinary 500": facts(status=500, title="Server error", text="Internal Server Error"),
    "ordinary 503": facts(status=503, title="Maintenance", text="Back soon."),
    "page behind cloudflare with its analytics script": facts(
        "<script>window.__CF$cv$params={r:'8a'}</script>"
        "<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script>",
        headers={"server": "cloudflare", "cf-ray": "8a1b-FRA"},
    ),
    "turnstile guarding a contact form": facts(
        "<form><input name=a><input name=b><div class='cf-turnstile'></div></form>",
        text="Contact us",
        text_inputs=2,
        widgets=("turnstile",),
    ),
    "recaptcha on a login form": facts(
        "<div class='g-recaptcha'></div>",
        title="Sign in",
        text="Sign in to your account",
        password_fields=1,
        text_inputs=1,
        widgets=("recaptcha",),
    ),
    "invisible recaptcha v3": facts(
        "<script src='https://www.google.com/recaptcha/api.js?render=6Lc'></script>"
        "<iframe src='https://www.google.com/recaptcha/api2/anchor?k=6Lc&size=invisible'>"
        "</iframe>",
    ),
    "page behind imperva": facts(
        headers={"x-iinfo": "7-123", "set-cookie": "incap_ses_1_2=abc; path=/"}
    ),
    "page behind datadome": facts(
        "<script src='https://js.datadome.co/tags.js'></script>",
        headers={"x-datadome": "protected"},
    ),
    "consent banner": facts(
        "<div id='onetrust-banner-sdk'>We use cookies <button>Accept All Cookies</button></div>"
    ),
    "article about captchas": facts(
        text="How to tell whether you are a robot: an essay. " * 80, title="Are you a robot?"
    ),
}


@pytest.mark.parametrize("page", NOT_CHALLENGES.values(), ids=NOT_CHALLENGES.keys())
def test_real_pages_are_not_challenges(page: PageFacts) -> None:
    assert detect_challenge(page) is None
