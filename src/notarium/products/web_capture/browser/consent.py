"""Dismissing cookie and consent banners, so the capture shows the page and not the banner.

First the accept buttons of the common consent-management platforms, by the selectors
their own markup uses, searched in every frame (several render inside an iframe) and
inside open shadow roots (Usercentrics). Then, for banners of no known platform, a
button whose whole label is a usual "accept" phrase in one of several languages — but
only inside something that is evidently a consent notice (its id, class or label says
cookie/consent/gdpr/privacy, or it is a fixed or dialog layer that talks about cookies),
so that an "Accept" button of the page's own content is never pressed.

Only acceptance is clicked: rejecting or configuring leaves many sites showing a
degraded page, and a notary records the page as an ordinary visitor sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from playwright.async_api import ElementHandle, Frame, Page
from playwright.async_api import Error as PlaywrightError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsentPlatform:
    name: str
    accept: tuple[str, ...]  # CSS selectors of its "accept all" button


PLATFORMS: tuple[ConsentPlatform, ...] = (
    ConsentPlatform(
        "OneTrust", ("#onetrust-accept-btn-handler", "#accept-recommended-btn-handler")
    ),
    ConsentPlatform(
        "Cookiebot",
        (
            "#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll",
            "#CybotCookiebotDialogBodyButtonAccept",
            "#CybotCookiebotDialogBodyLevelButtonAccept",
        ),
    ),
    ConsentPlatform("Didomi", ("#didomi-notice-agree-button", ".didomi-continue-without-agreeing")),
    ConsentPlatform(
        "Quantcast Choice",
        (
            '.qc-cmp2-summary-buttons button[mode="primary"]',
            '#qc-cmp2-ui button[mode="primary"]',
            ".qc-cmp-button.qc-cmp-accept-button",
        ),
    ),
    ConsentPlatform(
        "TrustArc",
        (
            "#truste-consent-button",
            ".truste-button1",
            ".trustarc-agree-btn",
            ".pdynamicbutton .call",
        ),
    ),
    ConsentPlatform(
        "Usercentrics",
        ('[data-testid="uc-accept-all-button"]', "#uc-btn-accept-banner"),
    ),
    ConsentPlatform("Osano", (".osano-cm-accept-all", ".osano-cm-button--type_accept")),
    ConsentPlatform(
        "CookieYes",
        ('[data-cky-tag="accept-button"]', ".cky-btn-accept", "#wt-cli-accept-all-btn"),
    ),
    ConsentPlatform("Complianz", (".cmplz-btn.cmplz-accept", ".cmplz-accept")),
    ConsentPlatform("iubenda", (".iubenda-cs-accept-btn",)),
    ConsentPlatform("Google Funding Choices", (".fc-cta-consent", ".fc-button.fc-cta-consent")),
    ConsentPlatform(
        "Sourcepoint",
        (".sp_choice_type_11", 'button[title="Accept all"]', 'button[title="Accept"]'),
    ),
    ConsentPlatform("Borlabs Cookie", ("a[data-cookie-accept-all]", "._brlbs-btn-accept-all")),
    ConsentPlatform("Termly", ('[data-tid="banner-accept"]',)),
    ConsentPlatform("Klaro", (".cm-btn-accept-all", ".cm-btn-accept")),
    ConsentPlatform("Axeptio", ("#axeptio_btn_acceptAll",)),
    ConsentPlatform("consentmanager", (".cmpboxbtnyes",)),
    ConsentPlatform("Cookie Script", ("#cookiescript_accept",)),
    ConsentPlatform("Civic Cookie Control", ("#ccc-recommended-settings", "#ccc-notify-accept")),
    ConsentPlatform("Cookie Notice", ("#cn-accept-cookie",)),
    ConsentPlatform("Cookie Consent", (".cc-allow", ".cc-btn.cc-dismiss")),
    ConsentPlatform("Shopify", ("#shopify-pc__banner__btn-accept",)),
)

# Whole button labels, lower case, by language; "|" separates the phrases.
_PHRASES_BY_LANGUAGE = {
    "en": "accept|accept all|accept all cookies|accept cookies|accept and continue"
    "|accept & continue|accept and close|accept & close|allow|allow all|allow all cookies"
    "|allow cookies|i agree|agree|agree and continue|agree & continue|agree and close"
    "|i accept|yes, i agree|yes i agree|got it|ok|okay|consent"
    "|continue with recommended cookies",
    "de": "akzeptieren|alle akzeptieren|alles akzeptieren|alle cookies akzeptieren|zustimmen"
    "|allen zustimmen|alle zulassen|alle erlauben|einverstanden|ich stimme zu|annehmen"
    "|alle annehmen|akzeptieren und schließen|zustimmen und weiter|verstanden",
    "fr": "accepter|tout accepter|accepter tout|accepter et fermer|j'accepte"
    "|accepter les cookies|autoriser tous les cookies|tout autoriser|d'accord|ok pour moi"
    "|accepter et continuer|continuer en acceptant",
    "es": "aceptar|aceptar todo|aceptar todas|aceptar cookies|aceptar todas las cookies"
    "|acepto|de acuerdo|permitir todas|permitir todo|aceptar y continuar",
    "it": "accetta|accetta tutto|accetta tutti|accetto|acconsento|accetta tutti i cookie"
    "|accetta e chiudi|accetta e continua",
    "nl": "accepteren|alles accepteren|alle cookies accepteren|akkoord|ik ga akkoord"
    "|alles toestaan|accepteer|accepteer alle cookies",
    "pt": "aceitar|aceitar todos|aceitar tudo|aceito|concordo|permitir todos"
    "|aceitar cookies|aceitar e fechar",
    "pl": "akceptuję|zaakceptuj|zaakceptuj wszystkie|akceptuj wszystkie|zgadzam się",
    "cs": "přijmout vše|souhlasím|přijmout",
    "hu": "elfogadom|összes elfogadása",
    "ro": "accept toate|acceptă|accepta toate",
    "sv": "acceptera|acceptera alla|godkänn|godkänn alla|tillåt alla",
    "da": "accepter alle|tillad alle",
    "no": "godta|godta alle|aksepter|tillat alle",
    "fi": "hyväksy|hyväksy kaikki",
    "ru": "принять|принять все|согласен|я согласен",
    "tr": "kabul et|tümünü kabul et",
    "el": "αποδοχή|αποδοχή όλων",
    "ja": "同意する|すべて同意する|同意",
    "zh": "接受|全部接受|同意并继续",
}
ACCEPT_PHRASES: tuple[str, ...] = tuple(
    phrase for phrases in _PHRASES_BY_LANGUAGE.values() for phrase in phrases.split("|")
)

# Returns {name, element} of the first visible accept button of a known platform in this
# frame, searching open shadow roots too; null when there is none.
_PLATFORM_SCRIPT = """
(platforms) => {
  const roots = [document];
  for (let i = 0; i < roots.length && i < 200; i++) {
    for (const el of roots[i].querySelectorAll('*')) {
      if (el.shadowRoot) roots.push(el.shadowRoot);
    }
  }
  const usable = (el) => {
    if (el.disabled) return false;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden'
      && style.display !== 'none' && style.pointerEvents !== 'none';
  };
  for (const [name, selectors] of platforms) {
    for (const selector of selectors) {
      for (const root of roots) {
        let found;
        try { found = [...root.querySelectorAll(selector)]; } catch (e) { continue; }
        const el = found.find(usable);
        if (el) return {name, element: el};
      }
    }
  }
  return null;
}
"""

# Returns {name, element} for a button whose whole label is an accept phrase, inside an
# evident consent notice; null when there is none.
_GENERIC_SCRIPT = """
(phrases) => {
  const wanted = new Set(phrases);
  const hint = /cookie|consent|gdpr|privacy|cmp|datenschutz|tracking/i;
  const talk = new RegExp(['cookie', 'consent', 'privacy', 'gdpr', 'datenschutz',
    'confidentialit', 'privacidad', 'riservatezza', 'personal data', 'données', 'tracking',
    'ciasteczk', 'süti', 'evästeet', 'informativa'].join('|'), 'i');
  const normalise = (s) => (s || '').replace(/[\\u2018\\u2019\\u00b4`]/g, "'")
    .replace(/\\s+/g, ' ').trim().toLowerCase().replace(/^[\\s✓✔×x»›>]+|[\\s!.…»›>]+$/g, '');
  const usable = (el) => {
    if (el.disabled) return false;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden'
      && style.display !== 'none';
  };
  const attributes = (el) => [el.id, typeof el.className === 'string' ? el.className : '',
    el.getAttribute('aria-label'), el.getAttribute('data-testid')].filter(Boolean).join(' ');
  const inNotice = (button) => {
    let el = button.parentElement;
    for (let depth = 0; el && depth < 12; depth++, el = el.parentElement) {
      if (el === document.body || el === document.documentElement) return false;
      if (hint.test(attributes(el))) return true;
      const style = getComputedStyle(el);
      const layer = style.position === 'fixed' || style.position === 'sticky'
        || el.getAttribute('role') === 'dialog' || el.getAttribute('role') === 'alertdialog'
        || el.getAttribute('aria-modal') === 'true' || el.tagName === 'DIALOG';
      if (layer) return talk.test((el.innerText || '').slice(0, 3000));
    }
    return false;
  };
  const candidates = document.querySelectorAll(
    'button, [role=button], a, input[type=button], input[type=submit]');
  for (const el of candidates) {
    const label = normalise(el.tagName === 'INPUT' ? el.value : (el.innerText || el.textContent))
      || normalise(el.getAttribute('aria-label'));
    if (!label || label.length > 60 || !wanted.has(label)) continue;
    if (usable(el) && inNotice(el)) return {name: 'generic: ' + label, element: el};
  }
  return null;
}
"""

MAX_CLICKS = 4


async def dismiss_banners(page: Page, *, budget: float) -> list[str]:
    """Clicks through the consent banners the page shows; returns their names in order.

    Banners come in layers (a notice, then a second confirmation) and in several frames,
    so the search repeats after each click until nothing is found, ``MAX_CLICKS``
    banners were dismissed, or ``budget`` seconds are spent.
    """
    dismissed: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    for _ in range(MAX_CLICKS):
        if loop.time() >= deadline:
            break
        found = await _find(page)
        if found is None:
            break
        name, element = found
        if name in dismissed:
            # Pressed once already and still shown: it does not go away by clicking.
            await element.dispose()
            break
        try:
            await _press(element, timeout=max(0.1, min(2.0, deadline - loop.time())))
        finally:
            await element.dispose()
        dismissed.append(name)
        # The platform's script hides the banner (or reloads the page) after the click.
        with contextlib.suppress(PlaywrightError):
            await page.wait_for_load_state("load", timeout=max(100, min(1500, _ms(deadline))))
        await asyncio.sleep(min(0.3, max(0.0, deadline - loop.time())))
    return dismissed


async def _find(page: Page) -> tuple[str, ElementHandle] | None:
    platforms = [[p.name, list(p.accept)] for p in PLATFORMS]
    for script, argument in ((_PLATFORM_SCRIPT, platforms), (_GENERIC_SCRIPT, ACCEPT_PHRASES)):
        for frame in _frames(page):
            found = await _search(frame, script, argument)
            if found is not None:
                return found
    return None


def _frames(page: Page) -> list[Frame]:
    main = page.main_frame
    return [
        main,
        *(frame for frame in page.frames if frame is not main and not frame.is_detached()),
    ]


async def _search(frame: Frame, script: str, argument: object) -> tuple[str, ElementHandle] | None:
    try:
        result = await frame.evaluate_handle(script, argument)
    except PlaywrightError:
        return None  # The frame navigated or went away meanwhile.
    try:
        element = (await result.get_property("element")).as_element()
        if element is None:
            return None
        name = await (await result.get_property("name")).json_value()
        return str(name), element
    except PlaywrightError:
        return None
    finally:
        await result.dispose()


async def _press(element: ElementHandle, *, timeout: float) -> None:
    try:
        # A real click first: some platforms ignore synthetic events.
        await element.click(timeout=timeout * 1000)
    except PlaywrightError:
        with contextlib.suppress(PlaywrightError):
            await element.evaluate("(el) => el.click()")


def _ms(deadline: float) -> float:
    return max(0.0, (deadline - asyncio.get_running_loop().time()) * 1000)
