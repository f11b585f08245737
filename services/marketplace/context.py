"""What the marketplace's handlers share beside the gateway's own context."""

from dataclasses import dataclass

import httpx
from aiohttp import web

from services.gateway.idempotency import IdempotencyStore
from services.marketplace.revenuecat_sandbox import RevenueCatSandboxClient
from services.marketplace.sessions import SessionSigner
from shared.connectors.lightning.pricing.oracle import PriceOracle
from shared.settings import Settings


@dataclass(frozen=True)
class MarketplaceContext:
    settings: Settings
    signer: SessionSigner
    # The admin dashboard's cookie (services/marketplace/dashboards_auth.py): same key, its own purpose.
    admin_signer: SessionSigner
    # Today's BTC price for showing fiat prices in sats (None when no rate source is configured).
    oracle: PriceOracle | None
    # One key per click: a double-submitted form starts one checkout, completes one purchase.
    checkout_clicks: IdempotencyStore
    paywall_clicks: IdempotencyStore
    # Only in sandbox mode (make run, tests): completes the hosted paywall's purchases.
    revenuecat_sandbox: RevenueCatSandboxClient | None
    http: httpx.AsyncClient


MARKETPLACE = web.AppKey("marketplace", MarketplaceContext)
