"""Lightning refunds: ``POST /v1/lightning/refunds`` starts one (a BTCPay pull payment the customer
claims), ``GET /v1/lightning/refunds/{id}`` reports it. A refund is ``processing`` until its payout
completes; then the entitlement is revoked (through the webhook → ingest → worker path)."""

import uuid

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.connectors.lightning.http.runtime import lightning_adapter
from shared.connectors.lightning.refunds import RefundNotPossibleError
from shared.domain.errors import ProviderError
from shared.http.errors import error_response, validation_error_response

routes = web.RouteTableDef()


class RefundRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    purchase_reference: str = Field(alias="purchaseReference", min_length=1, max_length=200)
    reason: str = Field(default="refund requested", max_length=500)


@routes.post("/v1/lightning/refunds")
async def start_refund(request: web.Request) -> web.Response:
    adapter = lightning_adapter(request.app)
    if adapter is None:
        return error_response(422, "provider_unavailable", "lightning is not configured")
    try:
        wanted = RefundRequest.model_validate_json(await request.read())
    except ValidationError as exc:
        return validation_error_response(exc, "invalid_refund")
    try:
        refund = await adapter.start_refund(wanted.purchase_reference, wanted.reason)
    except RefundNotPossibleError as exc:
        return error_response(404, "purchase_not_found", str(exc), "purchaseReference")
    except ProviderError as exc:
        return error_response(502 if exc.retryable else 422, "provider_error", str(exc))
    return web.json_response(refund.as_json(), status=202)


@routes.get("/v1/lightning/refunds/{refundId}")
async def get_refund(request: web.Request) -> web.Response:
    adapter = lightning_adapter(request.app)
    try:
        refund_id = uuid.UUID(request.match_info["refundId"])
    except ValueError:
        return error_response(404, "refund_not_found", "no such refund")
    refund = await adapter.refunds.view(refund_id) if adapter is not None else None
    if refund is None:
        return error_response(404, "refund_not_found", "no such refund")
    return web.json_response(refund.as_json())
