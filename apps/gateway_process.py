"""The gateway process (``billing serve gateway``): the HTTP API of ``services/gateway`` with the
marketplace pages of ``services/marketplace`` mounted on it. The marketplace builds on the gateway
(its checkout, pack views and security); the gateway knows nothing of the marketplace."""

from aiohttp import web

from services.gateway.app import build_app
from services.marketplace.app import install_marketplace
from shared.settings import Settings


def build_gateway_process(settings: Settings) -> web.Application:
    app = build_app(settings)
    install_marketplace(app, settings)  # after the gateway's security: its cookie uses the secret provider
    return app
