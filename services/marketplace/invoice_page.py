"""``/market/checkout/{id}``: a Lightning invoice as QR codes, and its live status as JSON for the page.

The status is the ledger's, not the wallet's: "paid" once an active entitlement carries this
checkout's purchase reference (the payment hash; ``bundle:<slug>:<hash>`` for a bundle's children);
"expired" once the invoice expired unpaid (its expiry passed, or the back end said so first).
"""

import uuid
from datetime import UTC, datetime
from typing import Any

import segno
from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from services.gateway.context import GATEWAY
from services.marketplace.context import MARKETPLACE
from services.marketplace.money import fiat_text, msat_to_fiat_minor, sats_text
from services.marketplace.pack_cards import btc_rate
from services.marketplace.pages import error_page, render, sign_in_redirect, signed_in
from shared.connectors.lightning.tables import LightningInvoice
from shared.db.bundles import bundle_purchase_reference
from shared.db.entitlements import list_user_entitlements
from shared.db.models import BillingCatalog, CheckoutSessionRecord
from shared.domain.entitlements import EntitlementStatus
from shared.messaging.telemetry import TelemetryType, fact_id

routes = web.RouteTableDef()
UNPAYABLE = frozenset({"expired", "invalid"})  # lightning_invoices.status that no payment turns paid


def qr_svg(text: str) -> Markup:
    """An inline SVG QR code; upper case keeps bech32 text in the QR's compact alphanumeric mode."""
    code = segno.make(text.upper(), error="m")
    # A viewBox instead of a fixed size: the stylesheet scales the code to the screen.
    svg = code.svg_inline(border=4, dark="#111827", light="#ffffff", title=text, omitsize=True)
    return Markup(svg)  # noqa: S704 (segno's own SVG)


async def _own_checkout(request: web.Request, user_id: str) -> CheckoutSessionRecord | None:
    try:
        checkout_id = uuid.UUID(request.match_info["checkout_id"])
    except ValueError:
        return None
    async with request.app[GATEWAY].sessions() as session:
        row = await session.get(CheckoutSessionRecord, checkout_id)
    # Someone else's checkout is answered like a missing one: ids are not a way to probe users.
    return row if row is not None and row.user_id == user_id and row.provider == "lightning" else None


async def checkout_status(request: web.Request, row: CheckoutSessionRecord) -> dict[str, Any]:
    details = row.details
    reference = row.purchase_reference or ""
    references = {reference, bundle_purchase_reference(str(details.get("packSlug")), reference)}
    async with request.app[GATEWAY].sessions() as session:
        entitlements = await list_user_entitlements(session, row.user_id)
        lightning_status = await session.scalar(
            select(LightningInvoice.status).where(LightningInvoice.checkout_session_id == row.id)
        )
    granted = [
        e
        for e in entitlements
        if e["purchase_reference"] in references and e["status"] == EntitlementStatus.ACTIVE
    ]
    if granted:
        return {"status": "paid", "entitlements": [e["pack_slug"] for e in granted]}
    past_expiry = row.expires_at is not None and row.expires_at <= datetime.now(UTC)
    if past_expiry or lightning_status in UNPAYABLE:
        # Seen each time the page asks; one id per checkout, so the rollup counts it once.
        request.app[GATEWAY].telemetry.emit(
            TelemetryType.INVOICE_EXPIRED,
            {"checkoutId": str(row.id), "pack": str(details.get("packSlug")), "provider": row.provider},
            user_id=row.user_id,
            event_id=fact_id(TelemetryType.INVOICE_EXPIRED.value, str(row.id)),
        )
        return {"status": "expired", "entitlements": []}
    return {"status": "open", "entitlements": []}


async def _fiat(request: web.Request, row: CheckoutSessionRecord) -> str | None:
    """The locked fiat price of a fiat-priced pack; for a pack priced in BTC, its value at today's rate."""
    details = row.details
    if details.get("amountMinor") is not None and details.get("currency") != "BTC":
        return fiat_text(int(details["amountMinor"]), str(details["currency"]))
    async with request.app[GATEWAY].sessions() as session:
        pack = await session.get(BillingCatalog, row.catalog_id)
    rate = await btc_rate(request.app[MARKETPLACE].oracle, pack.currency) if pack else None
    if pack is None or rate is None:
        return None
    value = msat_to_fiat_minor(int(details["amountMsat"]), pack.currency, rate)
    return f"≈ {fiat_text(value, pack.currency)}"


@routes.get("/market/checkout/{checkout_id}", name="market-invoice")
async def invoice_page(request: web.Request) -> web.Response:
    session = await signed_in(request)
    if session is None:
        raise sign_in_redirect(request)
    row = await _own_checkout(request, session.user_id)
    if row is None:
        return await error_page(request, 404, "No such checkout", "This invoice is not one of yours.")
    details = row.details
    bolt11, lnurl = str(details["lightningInvoice"]), details.get("lnurl")
    invoice = {
        "id": str(row.id),
        "pack_slug": details.get("packSlug"),
        "bolt11": bolt11,
        "lnurl": lnurl,
        "bolt11_qr": qr_svg(f"lightning:{bolt11}"),
        "lnurl_qr": qr_svg(f"lightning:{lnurl}") if lnurl else None,
        "sats": sats_text(int(details["amountMsat"])),
        "fiat": await _fiat(request, row),
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "status_url": str(request.app.router["market-invoice-status"].url_for(checkout_id=str(row.id))),
    }
    status = await checkout_status(request, row)
    return await render(request, "invoice.html", {"invoice": invoice, "status": status})


@routes.get("/market/checkout/{checkout_id}/status", name="market-invoice-status")
async def invoice_status(request: web.Request) -> web.Response:
    session = await signed_in(request)
    if session is None:
        return web.json_response({"error": {"code": "unauthorized", "message": "sign in first"}}, status=401)
    row = await _own_checkout(request, session.user_id)
    if row is None:
        return web.json_response(
            {"error": {"code": "checkout_not_found", "message": "no such checkout"}}, status=404
        )
    return web.json_response(await checkout_status(request, row), headers={"Cache-Control": "no-store"})
