"""The marketplace in a real browser (Debian's headless Chromium through Playwright), phone-sized.

Catalog → a Lightning pack → the QR as the browser drew it decodes to the BOLT11 we issued → paid
through the sandbox → the page says "paid" without a reload; a RevenueCat pack → hosted paywall →
sandbox purchase → My packs. Screenshots of each page go to ``MARKETPLACE_SCREENSHOTS_DIR``
(``docs/screenshots`` to refresh the README's), else ``.local/screenshots``.
"""

import io
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, Page, async_playwright

from apps.stack.processes import REPO_ROOT
from tests.conftest import Stack
from tests.infra.catalog import apply_catalog, unique_suffix
from tests.infra.lightning import BtcpaySandbox, btcpay_fixture, invoice_row  # noqa: F401
from tests.infra.marketplace import mint_user_token
from tests.infra.waiting import eventually

CHROMIUM = shutil.which("chromium")
# Under CI the set-up step installs chromium, so there this test runs (and fails without it).
pytestmark = [
    pytest.mark.kafka,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="no Debian chromium"),
]
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("MARKETPLACE_SCREENSHOTS_DIR", REPO_ROOT / ".local" / "screenshots"))


def _catalog(suffix: str) -> str:
    return f"""
catalog: browser-{suffix}
packs:
  - slug: colour-match-{suffix}
    display_name: Colour Match
    description: Match paint and fabric colours from a photo.
    features: [color.match]
    price: 199
    billing_kind: one_time
    visuals: {{color: "#10B981", icon: palette}}
    providers:
      revenuecat: {{product_id: rc.colour.{suffix}, price: 199, currency: USD}}
      lightning: {{product_id: ln.colour.{suffix}, price: 19900000, currency: BTC}}
  - slug: try-on-{suffix}
    display_name: Virtual Try-On
    description: See clothes and accessories on yourself in 3D before you buy.
    features: [try_on.3d, try_on.share]
    price: 499
    billing_kind: subscription
    billing_period: P1M
    visuals: {{color: "#7C3AED", icon: shirt}}
    providers:
      revenuecat: {{product_id: rc.tryon.{suffix}, price: 499, currency: USD}}
      lightning: {{product_id: ln.tryon.{suffix}, price: 499, currency: USD}}
  - slug: duo-{suffix}
    display_name: Try-On and Colour Bundle
    description: Both packs, for less than the two apart.
    bundle: [colour-match-{suffix}, try-on-{suffix}]
    price: 599
    billing_kind: one_time
    visuals: {{color: "#DB2777", icon: home}}
    providers:
      revenuecat: {{product_id: rc.duo.{suffix}, price: 599, currency: USD}}
"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before any page)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM or "chromium", args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


async def _shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _decode_png(png: bytes) -> str | None:
    found = zxingcpp.read_barcode(Image.open(io.BytesIO(png)))
    return found.text if found else None


async def _signed_in_page(browser: Browser, stack: Stack, http: httpx.AsyncClient, user_id: str) -> Page:
    page = await browser.new_page(viewport=PHONE, base_url=stack.gateway_url)
    await page.goto("/market/sign-in?next=/market/")
    await page.fill("input[name=token]", await mint_user_token(http, stack, user_id))
    await page.click("button[type=submit]:has-text('Sign in')")
    await page.wait_for_url("**/market/")
    return page


async def test_lightning_purchase_in_the_browser_turns_paid_without_a_reload(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, browser: Browser, user_id: str
) -> None:
    suffix = unique_suffix()
    await apply_catalog(stack, _catalog(suffix))
    page = await _signed_in_page(browser, stack, http, user_id)
    await _shot(page, "catalog")
    await page.click(f"article[data-slug=colour-match-{suffix}] h2 a")
    await page.wait_for_url(f"**/market/packs/colour-match-{suffix}*")  # ?market= of the browser
    await _shot(page, "pack")

    await page.click("button:has-text('Pay with Lightning')")
    await page.wait_for_url("**/market/checkout/*")
    checkout_id = page.url.rsplit("/", 1)[1]
    issued = await invoice_row(stack.sessions, checkout_id)
    drawn = await page.locator("#qr-bolt11 svg").screenshot()
    assert _decode_png(drawn) == f"LIGHTNING:{issued.bolt11.upper()}"
    await _shot(page, "lightning-invoice")

    await btcpay.pay(await btcpay.invoice_id_for(checkout_id))
    await page.wait_for_selector("#invoice[data-status=paid]", timeout=30_000)  # the page's own poll
    assert await page.text_content("#state") == "Paid — pack active"
    await _shot(page, "lightning-paid")


async def test_revenuecat_purchase_in_the_browser_through_the_hosted_paywall(
    stack: Stack, http: httpx.AsyncClient, browser: Browser, user_id: str
) -> None:
    suffix = unique_suffix()
    await apply_catalog(stack, _catalog(suffix))
    page = await _signed_in_page(browser, stack, http, user_id)
    await page.goto(f"/market/packs/try-on-{suffix}")
    await page.click("button:has-text('Buy with card / app store')")
    await page.wait_for_url("**/paywall?*")
    await _shot(page, "paywall")

    await page.click("button:has-text('Subscribe for $4.99')")
    await page.wait_for_selector("[data-purchase=sent]")

    async def listed() -> bool | None:
        await page.goto("/market/me")
        return await page.locator(f"li[data-pack=try-on-{suffix}][data-status=active]").count() == 1 or None

    await eventually(listed, what="my packs listing the pack")
    await _shot(page, "my-packs")


async def test_admin_dashboard_in_the_browser_shows_the_funnel_of_a_viewed_pack(
    stack: Stack, http: httpx.AsyncClient, api_key: str, browser: Browser, user_id: str
) -> None:
    suffix = unique_suffix()
    await apply_catalog(stack, _catalog(suffix))
    shopper = await _signed_in_page(browser, stack, http, user_id)
    await shopper.goto(f"/market/packs/colour-match-{suffix}")
    admin = await browser.new_page(viewport={"width": 1100, "height": 900}, base_url=stack.gateway_url)
    await admin.goto("/market/admin/")
    await admin.wait_for_url("**/market/admin/sign-in")
    await admin.fill("input[name=api_key]", api_key)
    await admin.click("button[type=submit]:has-text('Sign in')")
    await admin.wait_for_url("**/market/admin/")

    async def viewed() -> bool | None:
        await admin.reload()
        cell = admin.locator(
            f"tr[data-pack=colour-match-{suffix}][data-provider=lightning] td[data-metric=views]"
        )
        return (await cell.count() == 1 and (await cell.inner_text()).strip() == "1") or None

    await eventually(viewed, what="the dashboard counting the view")
    await _shot(admin, "dashboard")
