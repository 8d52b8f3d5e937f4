"""The web capture API end to end: HTTP in, the real browser pool, the local test website,
and every artifact checked by its own field's validator.

The runtime is the real one (allowlist 127.0.0.1, so the test site's plain-http pages
are admitted) with one browser pool for the whole module: launching Chromium costs
seconds, and the pool is built to outlive the captures it serves. The app runs on the
module's event loop through httpx's ASGI transport, since a Playwright browser belongs
to the loop that started it (a TestClient would bring a loop of its own).

Backends: the plain page, whose evidence and certificate go through every validator,
is certified on both; the other captures only on SQLite. Running them all on both
doubled the module's time (each backend passed) to show nothing new: what they add is
the browser's behaviour, which does not depend on the database, and what does (the
record, the evidence rows, the allowance given back, the links) is exercised on both
backends by ``test_webcapture_api.py`` and by the coverage tests here.
"""

from __future__ import annotations

import dataclasses
import io
import json
import sys
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from test_capture_engine import HAR_SCHEMA

from conftest import Tenant, make_tenant
from fakes.pages import PRIVATE_HOST, LocalSite
from notarium.adapters.egress.policy import EgressPolicy
from notarium.adapters.store.repositories import UsageRepository
from notarium.app.runtime import Runtime
from notarium.app.settings import Settings
from notarium.http.app import create_app
from notarium.products.web_capture.browser.browser_pool import BrowserPool
from notarium.products.web_capture.browser.engine import PlaywrightCaptureEngine
from notarium.products.web_capture.browser.options import PoolOptions
from notarium.products.web_capture.service import WebCaptureService, capture_period
from unit.certificate_pdf.support import pdf_text, runtime_with_reachable_pki
from unit.evidence.checks import openssl_manifest_signature, openssl_manifest_token, run
from unit.sealing.support import Validators, assert_pdfsig_valid

pytestmark = pytest.mark.anyio

BIN = Path(sys.executable).parent
ALLOWLIST = ["127.0.0.1"]
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
# Where the rendered first page of the certificate is left for a person to look at.
RENDERED = "certificate-page-1.png"


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with LocalSite() as running:
        yield running


@pytest.fixture(scope="module")
async def engine() -> AsyncIterator[PlaywrightCaptureEngine]:
    pool = BrowserPool(PoolOptions(slots=2))
    # The settings' own capture options, but a detected challenge gets one second (not
    # five) to clear itself: the imitations here never do.
    options = dataclasses.replace(Settings().capture(), challenge_wait=1.0)
    running = PlaywrightCaptureEngine(pool, EgressPolicy(ALLOWLIST), options, owns_pool=True)
    await running.start()
    yield running
    await running.close()


@pytest.fixture
def runtime(settings: Settings, engine: PlaywrightCaptureEngine) -> Iterator[Runtime]:
    allowed = settings.model_copy(update={"egress_allowlist": ALLOWLIST})
    # A reachable CRL/OCSP responder for the seal certificate: pdfsig asks it.
    with runtime_with_reachable_pki(allowed) as made:
        real = made.webcaptures
        shared = WebCaptureService(
            real.sessions,
            real.read_sessions,
            real.records,
            lambda: engine,
            real.packager,
            real.policy,
            real.clock,
            coverage=real.coverage,
            base_url=real.base_url,
            assist_lifetime=real.assist_lifetime,
        )
        yield dataclasses.replace(made, webcaptures=shared)


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(
        transport=transport, base_url=runtime.settings.base_url, timeout=120
    ) as client:
        yield client


@pytest.fixture
def pro(runtime: Runtime) -> Tenant:
    return make_tenant(runtime, "pro")


@pytest.fixture
def fresh_site(site: LocalSite) -> LocalSite:
    site.clear_hits()
    return site


async def certify(api: httpx.AsyncClient, tenant: Tenant, url: str) -> httpx.Response:
    return await api.post("/api/v1/certificates", json={"url": url}, headers=tenant.auth)


def used_today(runtime: Runtime, tenant: Tenant) -> int:
    with runtime.sessions() as session:
        return UsageRepository(session).used(tenant.account_id, capture_period(runtime.clock.now()))


def unzip(data: bytes, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(directory)
    return directory


def har_entries(har: bytes) -> list[dict[str, Any]]:
    document = json.loads(har)
    jsonschema.validate(document, HAR_SCHEMA, format_checker=jsonschema.FormatChecker())
    entries: list[dict[str, Any]] = document["log"]["entries"]
    return entries


# -- a plain page, every artifact through its validator ---------------------------------


async def test_plain_page_certificate_and_evidence(
    api: httpx.AsyncClient, pro: Tenant, runtime: Runtime, fresh_site: LocalSite, tmp_path: Path
) -> None:
    url = fresh_site.url("/plain")
    created = await certify(api, pro, url)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["url"], body["finalUrl"], body["status"]) == (url, url, "ready")
    certificate_id = body["certificateId"]
    assert used_today(runtime, pro) == 1

    # links.certificate with the key: a 302 to a pre-signed link, which serves the PDF.
    redirect = await api.get(body["links"]["certificate"], headers=pro.auth)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(f"{runtime.settings.base_url}/files/captures/")
    assert "signature=" in location and "expires=" in location
    followed = await api.get(body["links"]["certificate"], headers=pro.auth, follow_redirects=True)
    assert followed.status_code == 200
    assert followed.headers["content-type"] == "application/pdf"
    pdf = followed.content

    validators = Validators(tmp_path, runtime.keystore.path("ca.cert.pem").read_bytes())
    checked = validators.pyhanko(pdf)
    assert checked.returncode == 0 and "INTACT:TRUSTED" in checked.output, checked.output
    assert_pdfsig_valid(validators.pdfsig(pdf), expected_seals=1)
    text = pdf_text(pdf, tmp_path)
    for expected in ("Requested URL", "Final URL", url, certificate_id, "A plain page"):
        assert expected in text, expected
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    rendered = run(
        "pdftoppm",
        "-png",
        "-r",
        "60",
        "-f",
        "1",
        "-l",
        "1",
        "-singlefile",
        tmp_path / "certificate.pdf",
        tmp_path / RENDERED.removesuffix(".png"),
    )
    assert rendered.returncode == 0, rendered.stderr
    assert (tmp_path / RENDERED).stat().st_size > 10_000
    # The screenshot excerpt is the only raster image, and it is on the first page.
    images = run("pdfimages", "-list", "-f", "1", "-l", "1", tmp_path / "certificate.pdf")
    assert len(images.stdout.splitlines()[2:]) == 1, images.stdout
    # The page leads the certificate: URL, final URL, title and screenshot come before
    # the manifest, which is only the file the record's hash is taken of.
    first = run("pdftotext", "-f", "1", "-l", "1", tmp_path / "certificate.pdf", "-")
    assert first.returncode == 0, first.stderr
    page_one = first.stdout
    order = [
        page_one.index("Captured web page"),
        page_one.index("Requested URL"),
        page_one.index("Final URL"),
        page_one.index("Page title"),
        page_one.index("A plain page"),
        page_one.index("The top of the captured page"),
    ]
    assert order == sorted(order), page_one
    if "manifest.json" in page_one:
        assert page_one.index("manifest.json") > order[-1], page_one

    # The evidence package, with the record's proof and the same certificate inside.
    evidence = await api.get(
        f"{body['links']['self']}/evidence", headers=pro.auth, follow_redirects=True
    )
    assert evidence.status_code == 200
    assert evidence.headers["content-type"] == "application/zip"
    (tmp_path / "evidence.zip").write_bytes(evidence.content)
    unpacked = unzip(evidence.content, tmp_path / "evidence")
    assert (unpacked / "certificate.pdf").read_bytes() == pdf

    wacz = run(BIN / "wacz", "validate", "-f", unpacked / "capture.wacz")
    assert wacz.returncode == 0 and "Validation succeeded" in wacz.stdout + wacz.stderr, (
        wacz.stdout + wacz.stderr
    )
    archive = unzip((unpacked / "capture.wacz").read_bytes(), tmp_path / "wacz")
    warcs = sorted((archive / "archive").glob("*.warc.gz"))
    assert warcs
    for warc in warcs:
        warcio = run(BIN / "warcio", "check", "-v", warc)
        assert warcio.returncode == 0, warcio.stdout + warcio.stderr
        assert "digest pass" in warcio.stdout and "fail" not in warcio.stdout

    entries = har_entries((unpacked / "capture.har").read_bytes())
    urls = {entry["request"]["url"] for entry in entries}
    assert {url, fresh_site.url("/pixel.png"), fresh_site.url("/style.css")} <= urls

    token = openssl_manifest_token(unpacked)
    assert token.returncode == 0 and "Verification: OK" in token.stdout, token.stderr
    signature = openssl_manifest_signature(unpacked)
    assert signature.returncode == 0, signature.stdout + signature.stderr
    assert "Signature Verified Successfully" in signature.stdout

    verified = run(BIN / "notarium", "verify", tmp_path / "evidence.zip")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    listed = await api.get("/api/v1/certificates", headers=pro.auth)
    assert [item["certificateId"] for item in listed.json()["data"]] == [certificate_id]


# -- what the browser meets -------------------------------------------------------------


@SQLITE_ONLY
async def test_redirect_chain_ends_at_the_final_url(
    api: httpx.AsyncClient, pro: Tenant, fresh_site: LocalSite
) -> None:
    url = fresh_site.url("/redirect/1")
    created = await certify(api, pro, url)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["url"] == url
    assert body["finalUrl"] == fresh_site.url("/redirect/final")
    meta = await api.get(body["links"]["self"], headers=pro.auth)
    assert meta.json()["title"] == "Redirect target"
    assert meta.json()["finalUrl"] == fresh_site.url("/redirect/final")


@SQLITE_ONLY
async def test_bot_protection_is_refused_with_an_assisted_capture_link_and_not_billed(
    api: httpx.AsyncClient, pro: Tenant, runtime: Runtime, fresh_site: LocalSite
) -> None:
    blocked = await certify(api, pro, fresh_site.url("/bot/cloudflare"))
    assert blocked.status_code == 422, blocked.text
    body = blocked.json()
    assert body["error"] == "bot_protection_blocked"
    assert body["protection"] == "cloudflare"
    assert body["assistedCaptureUrl"].startswith(f"{runtime.settings.base_url}/assist/")
    assert used_today(runtime, pro) == 0
    listed = await api.get("/api/v1/certificates", headers=pro.auth)
    assert listed.json()["data"] == []


@SQLITE_ONLY
async def test_an_unreachable_host_is_a_capture_failure_and_not_billed(
    api: httpx.AsyncClient, pro: Tenant, runtime: Runtime, site: LocalSite
) -> None:
    failed = await certify(api, pro, site.unreachable_url)
    assert failed.status_code == 502, failed.text
    assert failed.json()["error"] == "capture_failed"
    assert used_today(runtime, pro) == 0


@SQLITE_ONLY
async def test_private_subresources_stay_out_of_the_capture(
    api: httpx.AsyncClient, pro: Tenant, fresh_site: LocalSite, tmp_path: Path
) -> None:
    created = await certify(api, pro, fresh_site.url("/private-subresources"))
    assert created.status_code == 201, created.text
    evidence = await api.get(
        f"{created.json()['links']['self']}/evidence", headers=pro.auth, follow_redirects=True
    )
    unpacked = unzip(evidence.content, tmp_path / "evidence")
    entries = har_entries((unpacked / "capture.har").read_bytes())
    assert fresh_site.url("/pixel.png") in {entry["request"]["url"] for entry in entries}
    for entry in entries:
        assert PRIVATE_HOST not in entry["request"]["url"], entry["request"]["url"]
        assert entry.get("serverIPAddress") != PRIVATE_HOST
    # Nothing reached the private address, and the page text says so.
    assert fresh_site.hits(PRIVATE_HOST) == []
    dom = (unpacked / "dom.html").read_text()
    assert "fetch failed" in dom and "socket failed" in dom


@SQLITE_ONLY
async def test_a_url_at_a_private_address_is_invalid(
    api: httpx.AsyncClient, pro: Tenant, runtime: Runtime, fresh_site: LocalSite
) -> None:
    refused = await certify(api, pro, fresh_site.private_url("/plain"))
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_url"
    assert fresh_site.hits(PRIVATE_HOST) == []
    assert used_today(runtime, pro) == 0


# -- coverage: no browser, so both backends ----------------------------------------------


async def test_coverage_of_a_plain_page_and_of_a_challenge(
    api: httpx.AsyncClient, pro: Tenant, runtime: Runtime, site: LocalSite
) -> None:
    plain = await api.post("/api/v1/coverage", json={"url": site.url("/plain")}, headers=pro.auth)
    assert plain.status_code == 200, plain.text
    report = plain.json()
    assert (report["reachable"], report["blocked"], report["protection"]) == (True, False, None)
    assert (report["status"], report["billed"]) == (200, False)

    challenge = await api.post(
        "/api/v1/coverage", json={"url": site.url("/bot/cloudflare")}, headers=pro.auth
    )
    assert challenge.status_code == 200, challenge.text
    report = challenge.json()
    assert (report["blocked"], report["protection"], report["status"]) == (True, "cloudflare", 403)
    assert "assisted capture" in report["detail"]
    assert used_today(runtime, pro) == 0
