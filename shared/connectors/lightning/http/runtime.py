"""The Lightning connector the gateway runs, as its routes and tasks find it."""

from aiohttp import web

from shared.connectors.gateway_runtime import GATEWAY_RUNTIME
from shared.connectors.lightning.adapter import LightningAdapter
from shared.domain.provider import Provider


def lightning_adapter(app: web.Application) -> LightningAdapter | None:
    connector = app[GATEWAY_RUNTIME].connectors.get(Provider.LIGHTNING)
    return connector if isinstance(connector, LightningAdapter) else None
