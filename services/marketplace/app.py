"""Mounts the marketplace pages on the gateway: ``install_marketplace(app, settings)``, after security
(``apps/gateway_process.py`` does, for ``billing serve gateway``).

Pages sit under ``/market/`` (and the hosted ``/paywall``), rendered server-side with Jinja2. They
act for a user through a signed session cookie; the gateway's API-key check exempts these paths
(services/gateway/route_policy.py) and its body limits let their HTML forms through.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import httpx
import jinja2
import structlog
from aiohttp import web
from redis.asyncio import Redis

from services.gateway.context import GATEWAY
from services.gateway.idempotency import IdempotencyStore
from services.gateway.security_context import SECURITY
from services.marketplace import (
    catalog_pages,
    dashboards,
    dashboards_auth,
    invoice_page,
    my_packs,
    outages,
    paywall,
    purchases,
    sign_in,
)
from services.marketplace.context import MARKETPLACE, MarketplaceContext
from services.marketplace.outages import MARKETPLACE_UNAVAILABLE
from services.marketplace.revenuecat_sandbox import RevenueCatSandboxClient
from services.marketplace.sessions import SECRET_NAME, SessionSigner
from shared.connectors.lightning.pricing.oracle import PriceOracle, price_oracle_from_settings
from shared.settings import Settings

HERE = Path(__file__).parent
log = structlog.get_logger(__name__)


def install_marketplace(app: web.Application, settings: Settings) -> None:
    """Add the pages, their templates and static files; call after ``install_security``."""
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    app.middlewares.append(outages.dependency_outages)  # innermost: sees the handlers' own errors
    for module in (
        catalog_pages,
        purchases,
        invoice_page,
        paywall,
        my_packs,
        sign_in,
        dashboards,
        dashboards_auth,
    ):
        app.add_routes(module.routes)
    app.router.add_static("/market/static", HERE / "static", name="market-static")

    async def resources(app: web.Application) -> AsyncIterator[None]:
        secrets = app[SECURITY].secrets
        try:  # our own signing key: generated on first start (into Vault too, when it may write)
            await secrets.ensure_generated(SECRET_NAME)
        except MARKETPLACE_UNAVAILABLE as exc:  # the API stays up; pages answer "try again"
            log.error("marketplace_session_secret_unavailable", error=type(exc).__name__)
        redis = app[GATEWAY].redis
        http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        sandbox_url = settings.marketplace_revenuecat_sandbox_url
        app[MARKETPLACE] = MarketplaceContext(
            settings=settings,
            signer=SessionSigner(secrets, settings.marketplace_session_ttl_s),
            admin_signer=SessionSigner(
                secrets, settings.admin_dashboard_session_ttl_s, purpose="admin-cookie"
            ),
            oracle=_oracle(settings, http, redis),
            checkout_clicks=IdempotencyStore(app[GATEWAY].sessions, "marketplace-checkout"),
            paywall_clicks=IdempotencyStore(app[GATEWAY].sessions, "marketplace-paywall"),
            revenuecat_sandbox=RevenueCatSandboxClient(http, sandbox_url) if sandbox_url else None,
            http=http,
        )
        yield
        await http.aclose()

    app.cleanup_ctx.append(resources)


def _oracle(settings: Settings, http: httpx.AsyncClient, redis: Redis) -> PriceOracle | None:
    """The checkout's own price oracle, when a rate source is configured (for sats next to fiat)."""
    if settings.price_oracle.source == "btcpay" and not (
        settings.price_oracle.url or settings.btcpay.base_url
    ):
        return None
    return price_oracle_from_settings(settings, http, redis)
