"""Wires the security controls into the gateway: the secret provider, API keys, limits, signed acks.

``install_security(app, settings)`` is the one call ``app.py`` makes. Middlewares, outermost first:
JSON errors (what the middlewares below raise) → acknowledgements (sign every webhook response) →
request audit → authentication + rate limit → body limits. ``json_errors`` is also innermost, so
aiohttp's own 4xx and handlers' failures are JSON before they are audited and signed.
"""

from collections.abc import AsyncIterator

from aiohttp import web

from services.gateway import privacy
from services.gateway.acknowledgements import sign_webhook_acknowledgements
from services.gateway.audit_trail import audit_requests
from services.gateway.auth import authenticate_requests
from services.gateway.context import GATEWAY
from services.gateway.errors import json_errors
from services.gateway.limits import enforce_request_limits
from services.gateway.security_context import SECURITY, SecurityContext
from shared.security.audit_batches import AuditBatchWriter
from shared.security.rate_limit import RateLimiter
from shared.settings import Settings


def install_security(app: web.Application, settings: Settings) -> None:
    """Add the security middlewares and their resources; call after the gateway's own resources."""
    # Outermost first, in front of the gateway's own (json_errors); the list is open until startup.
    ours = [
        json_errors,
        sign_webhook_acknowledgements,
        audit_requests,
        authenticate_requests,
        enforce_request_limits,
    ]
    for middleware in reversed(ours):
        app.middlewares.insert(0, middleware)
    app.add_routes(privacy.routes)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        provider = app[GATEWAY].secrets
        if settings.secret_backend == "env":  # noqa: S105 (a back-end name)
            await provider.ensure_generated("ack_signing_secret")
        else:  # fail at start, not on the first webhook, when Vault lacks the key
            await provider.current("ack_signing_secret")
        gateway = app[GATEWAY]
        audit = AuditBatchWriter(
            gateway.sessions,
            max_buffered=settings.audit_buffer_max,
            rejected_burst=settings.audit_rejected_burst,
        )
        app[SECURITY] = SecurityContext(
            settings, provider, RateLimiter(gateway.redis, settings.namespace), audit
        )
        yield
        await audit.close()

    app.cleanup_ctx.append(resources)
