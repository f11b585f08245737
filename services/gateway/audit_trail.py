"""Audit rows for what the gateway does on a caller's behalf: webhooks verified or rejected,
checkouts created, refunds requested and admin changes. Written after the handler answered; a
failed write never changes the answer (shared/security/audit_batches.py).

Entitlement changes are audited in the worker's own transaction (shared/db/entitlements.py);
API keys, erasures and secret rotations by the code that makes them.
"""

import uuid
from typing import Any

import orjson
from aiohttp import web

from services.gateway.auth import principal_of, route_pattern
from services.gateway.route_policy import policy_for
from services.gateway.security_context import SECURITY
from shared.domain.audit import AuditEntry, user_subject
from shared.observability.request_ids import REQUEST_ID_HEADER, current_request_id
from shared.security.api_keys import Scope

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KNOWN_PROVIDERS = frozenset({"revenuecat", "lightning"})
# Audited by the code that makes the change (same transaction), not here.
SELF_AUDITED = frozenset({("DELETE", "/v1/users/{user_id}"), ("POST", "/v1/users/{user_id}/tokens")})


def _json(response: web.StreamResponse) -> dict[str, Any]:
    body = response.body if isinstance(response, web.Response) else None
    if not isinstance(body, bytes | bytearray):
        return {}
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _webhook_entry(request: web.Request, response: web.StreamResponse, request_id: str) -> AuditEntry:
    segment = request.path.removeprefix("/v1/webhooks/").split("/", 1)[0]
    provider = segment if segment in KNOWN_PROVIDERS else "unknown"
    body = _json(response)
    error = body.get("error") if isinstance(body.get("error"), dict) else None
    details: dict[str, Any] = {"status": response.status, "remote": request.remote, "request_id": request_id}
    if error:
        details["code"] = error.get("code")
    if body.get("event_id"):
        details["event_id"] = body["event_id"]
    verified = response.status < 300
    return AuditEntry(
        actor=f"provider:{provider}",
        event="webhook.verified" if verified else "webhook.rejected",
        subject=f"webhook:{provider}",
        details=details,
    )


def audit_entry_for(request: web.Request, response: web.StreamResponse, request_id: str) -> AuditEntry | None:
    """The audit row a finished request calls for, if any."""
    if request.path.startswith("/v1/webhooks/"):
        return _webhook_entry(request, response, request_id)
    pattern = route_pattern(request)
    principal = principal_of(request)
    if pattern is None or principal is None or response.status >= 400:
        return None
    if (request.method, pattern) == ("POST", "/v1/checkout"):
        body = _json(response)
        return AuditEntry(
            actor=principal.actor,
            event="checkout.created",
            subject=user_subject(str(body.get("userId", ""))),
            details={
                k: body.get(k) for k in ("id", "provider", "packSlug", "purchaseReference", "amountMinor")
            },
        )
    if request.method not in MUTATING or (request.method, pattern) in SELF_AUDITED:
        return None
    if policy_for(request.method, pattern).scope is not Scope.ADMIN:
        return None
    event = "refund.requested" if pattern.startswith("/v1/lightning/refunds") else "admin.change"
    return AuditEntry(
        actor=principal.actor,
        event=event,
        subject=f"route:{pattern}",
        details={"method": request.method, "path": request.path, "status": response.status},
    )


@web.middleware
async def audit_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    # The request's id (shared/observability/request_context.py, the outermost middleware), returned to
    # the caller and kept in the audit row, so a delivery can be traced to its row and its log lines.
    request_id = current_request_id() or uuid.uuid4().hex
    entry = audit_entry_for(request, response, request_id)
    if entry is None:
        return response
    audit = request.app[SECURITY].audit
    # Never raises: a row that cannot be written yet is buffered and retried (audit_batches.py).
    if entry.event == "webhook.rejected":
        # Per source a burst, then a count: a flood of unauthenticated webhooks writes bounded rows.
        await audit.append_rejection(entry.actor.removeprefix("provider:"), str(request.remote), entry)
    else:
        await audit.append(entry)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response
