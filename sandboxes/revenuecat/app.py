"""Builds the sandbox's aiohttp application."""

from collections.abc import AsyncIterator

from aiohttp import web

from sandboxes.revenuecat import api, attributes, control
from sandboxes.revenuecat.config import SandboxConfig
from sandboxes.revenuecat.customers import CustomerStore
from sandboxes.revenuecat.delivery import WebhookSender
from sandboxes.revenuecat.faults import Faults
from sandboxes.revenuecat.project_catalog import ProjectCatalog
from sandboxes.revenuecat.simulations import Sandbox
from sandboxes.revenuecat.state import STATE, SandboxState


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(config: SandboxConfig) -> web.Application:
    app = web.Application(middlewares=[api.api_guard])
    sender = WebhookSender(config)
    sandbox = Sandbox(config, CustomerStore(), ProjectCatalog(config.project_id, config.app_id))
    app[STATE] = SandboxState(config, sandbox, sender, Faults())
    app.add_routes(api.routes)
    app.add_routes(attributes.routes)
    app.add_routes(control.routes)
    app.router.add_get("/healthz", health)

    async def run_sender(_: web.Application) -> AsyncIterator[None]:
        await sender.start()
        yield
        await sender.stop()

    app.cleanup_ctx.append(run_sender)
    return app
