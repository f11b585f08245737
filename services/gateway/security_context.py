"""What the security middlewares share on the gateway app: settings, secrets, the rate limiter and
the audit writer, under ``SECURITY`` (installed by security.py, read by the middlewares and routes)."""

from dataclasses import dataclass

from aiohttp import web

from shared.security.audit_batches import AuditBatchWriter
from shared.security.rate_limit import RateLimiter
from shared.security.secrets import SecretProvider
from shared.settings import Settings


@dataclass(frozen=True)
class SecurityContext:
    settings: Settings
    secrets: SecretProvider
    rate_limiter: RateLimiter
    audit: AuditBatchWriter


SECURITY = web.AppKey("security", SecurityContext)
