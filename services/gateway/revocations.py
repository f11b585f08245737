"""``POST /v1/admin/entitlements/{entitlementId}/revoke`` and ``POST /v1/admin/entitlements/revoke``
(admin): support withdraws an entitlement through its provider's ``revoke_entitlement``. The
revocation is an update on the user's partition, applied by the worker like any other, so the
answer is 202: accepted, not yet applied."""

import uuid

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.gateway.auth import principal_of
from services.gateway.context import GATEWAY
from shared.connectors.revocation import ProviderNotConfigured, revoke_entitlement_by_id
from shared.domain.errors import ProviderError
from shared.domain.provider import Provider
from shared.http.errors import error_response, validation_error_response

routes = web.RouteTableDef()


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    user_id: str = Field(alias="userId", min_length=1, max_length=200)
    provider: Provider
    purchase_reference: str = Field(alias="purchaseReference", min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=500)


class RevokeByIdRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


@routes.post("/v1/admin/entitlements/{entitlement_id}/revoke")
async def revoke_entitlement_by_its_id(request: web.Request) -> web.Response:
    try:
        entitlement_id = uuid.UUID(request.match_info["entitlement_id"])
    except ValueError:
        return error_response(400, "invalid_request", "not an entitlement id", "entitlementId")
    try:
        revoke = RevokeByIdRequest.model_validate_json(await request.read())
    except ValidationError as exc:
        return validation_error_response(exc, "invalid_request")
    principal = principal_of(request)
    actor = principal.actor if principal is not None else "apikey:bootstrap-admin"
    try:
        requested = await revoke_entitlement_by_id(
            request.app[GATEWAY].sessions,
            request.app[GATEWAY].connectors,
            entitlement_id,
            revoke.reason,
            actor,
        )
    except ProviderNotConfigured as exc:
        return error_response(422, "provider_unavailable", str(exc))
    except LookupError as exc:
        return error_response(404, "entitlement_not_found", str(exc), "entitlementId")
    except ProviderError as exc:
        return error_response(502 if exc.retryable else 422, "provider_error", str(exc))
    body = {"status": "accepted", "entitlementId": str(requested.entitlement_id), "userId": requested.user_id}
    return web.json_response(body, status=202)


@routes.post("/v1/admin/entitlements/revoke")
async def revoke_entitlement(request: web.Request) -> web.Response:
    try:
        revoke = RevokeRequest.model_validate_json(await request.read())
    except ValidationError as exc:
        return validation_error_response(exc, "invalid_request")
    connector = request.app[GATEWAY].connectors.get(revoke.provider)
    if connector is None:
        return error_response(422, "provider_unavailable", f"{revoke.provider.value} is not configured")
    try:
        await connector.revoke_entitlement(revoke.user_id, revoke.purchase_reference, revoke.reason)
    except LookupError as exc:
        return error_response(404, "entitlement_not_found", str(exc), "purchaseReference")
    except ProviderError as exc:
        return error_response(502 if exc.retryable else 422, "provider_error", str(exc))
    return web.json_response({"status": "accepted"}, status=202)
