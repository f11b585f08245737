"""The gateway's answers that handlers write as plain JSON, as models for the OpenAPI document.

The request models and the seed's shapes live beside the code that validates or builds them
(``CheckoutInput``, ``CheckoutSession``, ``PackView``, ``EntitlementView``, ``PackSpec``, ...);
these describe the rest. ``tests/e2e/test_openapi_fuzz.py`` checks live answers against them.
"""

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.gateway.pack_views import PackView
from shared.domain.entitlements import EntitlementView


class Open(BaseModel):
    """An answer that may grow fields: clients ignore the ones they do not know."""

    model_config = ConfigDict(extra="allow")


class CatalogProblem(Open):
    slug: str | None
    field: str
    message: str


class ErrorDetail(Open):
    code: str = Field(description="machine readable, e.g. invalid_checkout, unauthorized")
    message: str = Field(description="for humans")
    field: str | None = Field(default=None, description="the input at fault, when one is")
    reason: str | None = Field(default=None, description="pack_not_available: why the gates refused")
    flag: str | None = Field(default=None, description="pack_not_available: the flag that decided")
    issues: list[CatalogProblem] | None = Field(default=None, description="invalid_catalog: every problem")


class ErrorBody(Open):
    """Every error of the API: ``{"error": {"code", "message", "field"?}}`` (shared/http/errors.py)."""

    error: ErrorDetail


class PackList(Open):
    packs: list[PackView]


class FeatureGrantView(Open):
    pack_slug: str
    via_bundle: bool


class UserEntitlements(Open):
    user_id: str
    entitlements: list[EntitlementView]
    features: list[str] = Field(description="the union of the features the user's active packs grant")
    feature_grants: dict[str, FeatureGrantView]


class GrantedBy(FeatureGrantView):
    expires_at: str | None


class FeatureCheck(Open):
    user_id: str
    feature: str
    allowed: bool
    granted_by: GrantedBy | None


class LightningWebhook(Open):
    """BTCPay Server's webhook, or Alby Hub's (Standard Webhooks): read by the lightning plugin
    (shared/connectors/lightning/webhook.py), which takes their envelopes as they come."""


class WebhookAccepted(Open):
    """The delivery is durably on Kafka; ``event_id`` (RevenueCat) or ``delivery_id`` (Lightning)."""

    status: Literal["accepted"]
    event_id: str | None = None
    delivery_id: str | None = None


class LnurlPayRequest(Open):
    """LUD-06 ``payRequest``."""

    tag: Literal["payRequest"]
    callback: str
    minSendable: int
    maxSendable: int
    metadata: str
    commentAllowed: int


class LnurlInvoice(Open):
    pr: str = Field(description="the BOLT11 invoice")
    routes: list[object]


class LnurlError(Open):
    """LUD-06's error shape, which wallets understand (LNURL routes answer it instead of ``error``)."""

    status: Literal["ERROR"]
    reason: str


class Refund(Open):
    refundId: UUID
    purchaseReference: str
    status: str
    pullPaymentId: str
    claimLink: str | None


class Receipt(Open):
    version: int
    purchaseReference: str
    backend: str
    bolt11: str
    paymentHash: str
    preimage: str | None
    proof: Literal["preimage", "confirmed_by_provider"]
    amountMsat: int
    amountPaidMsat: int
    nodePubkey: str
    settledAt: str


class Receipts(Open):
    purchaseReference: str
    receipts: list[Receipt]


class RevocationAccepted(Open):
    status: Literal["accepted"]
    entitlementId: UUID | None = None
    userId: str | None = None


class PackChangeView(Open):
    slug: str
    change: str
    fields: list[str]


class PackWritten(Open):
    pack: PackView
    changes: list[PackChangeView]


class UserToken(Open):
    token: str = Field(description="shown once")
    tokenId: UUID
    userId: str
    scopes: list[str]
    expiresAt: str | None


class UserErased(Open):
    status: Literal["erased"]
    counts: dict[str, int]


class UserExport(Open):
    """Every row naming the user, per table, and their audit trail."""


class Liveness(Open):
    status: Literal["ok"]


class Readiness(Open):
    status: Literal["ready", "degraded", "unavailable"]
    postgres: str
    redis: str
    kafka: str
