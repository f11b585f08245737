"""The gateway's shapes, in the seed's field names (``sessionId``, ``url``, ``packId`` ...).

Answers keep the fields this version does not name (``extra="allow"``), so a newer gateway never
breaks an older client; requests are sent with the seed's names only (``by_alias``).
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Provider = Literal["revenuecat", "lightning"]
EntitlementStatus = Literal["active", "expired", "revoked"]


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def body(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Money(Answer):
    amount: int
    currency: str


class Pack(Answer):
    """The seed's ``MicroSaasPack``; ``price`` is integer minor units of ``currency``."""

    id: UUID
    slug: str
    display_name: str = Field(alias="displayName")
    description: str
    features: list[str]
    price: int
    currency: str
    provider_skus: dict[str, str | None] = Field(alias="providerSkus")
    active: bool = True


class CheckoutInput(Request):
    """The seed's ``CheckoutInput`` (``packId``: the pack's id or its slug)."""

    user_id: str = Field(alias="userId")
    pack_id: str = Field(alias="packId")
    provider: Provider
    metadata: dict[str, str] | None = None
    success_url: str | None = Field(default=None, alias="successUrl")
    email: str | None = None
    market: str | None = None


class CheckoutSession(Answer):
    """The seed's ``CheckoutSession``: ``url`` to send the buyer to, or a BOLT11 ``lightningInvoice``."""

    session_id: UUID = Field(alias="sessionId")
    provider: Provider
    url: str | None = None
    lightning_invoice: str | None = Field(default=None, alias="lightningInvoice")
    purchase_reference: str | None = Field(default=None, alias="purchaseReference")
    expires_at: datetime | None = Field(default=None, alias="expiresAt")


class Entitlement(Answer):
    """The seed's ``EntitlementUpdate``, as the reads and every CloudEvent's ``data`` carry it."""

    user_id: str = Field(alias="userId")
    pack_id: UUID = Field(alias="packId")
    status: EntitlementStatus
    provider: str
    reference: str
    activation_date: datetime | None = Field(alias="activationDate")
    expiration_date: datetime | None = Field(alias="expirationDate")
    entitlement_id: UUID
    pack_slug: str
    reason: str | None = None


class FeatureGrantSource(Answer):
    pack_slug: str
    via_bundle: str | None


class UserEntitlements(Answer):
    user_id: str
    entitlements: list[Entitlement]
    features: list[str]
    feature_grants: dict[str, FeatureGrantSource]


class GrantedBy(FeatureGrantSource):
    expires_at: datetime | None


class FeatureCheck(Answer):
    user_id: str
    feature: str
    allowed: bool
    granted_by: GrantedBy | None


class Receipt(Answer):
    version: int
    purchase_reference: str = Field(alias="purchaseReference")
    backend: str
    bolt11: str
    payment_hash: str = Field(alias="paymentHash")
    preimage: str | None
    proof: Literal["preimage", "confirmed_by_provider"]
    amount_msat: int = Field(alias="amountMsat")
    amount_paid_msat: int = Field(alias="amountPaidMsat")
    node_pubkey: str = Field(alias="nodePubkey")
    settled_at: datetime = Field(alias="settledAt")


class Receipts(Answer):
    purchase_reference: str = Field(alias="purchaseReference")
    receipts: list[Receipt]


class RevocationAccepted(Answer):
    status: Literal["accepted"]
    entitlement_id: UUID | None = Field(default=None, alias="entitlementId")
    user_id: str | None = Field(default=None, alias="userId")


class RevokeByReference(Request):
    user_id: str = Field(alias="userId")
    provider: Provider
    purchase_reference: str = Field(alias="purchaseReference")
    reason: str


class UserToken(Answer):
    token: str
    token_id: UUID = Field(alias="tokenId")
    user_id: str = Field(alias="userId")
    scopes: list[str]
    expires_at: datetime | None = Field(alias="expiresAt")


class Erasure(Answer):
    status: Literal["erased"]
    counts: dict[str, int]


class Refund(Answer):
    refund_id: UUID = Field(alias="refundId")
    purchase_reference: str = Field(alias="purchaseReference")
    status: str
    pull_payment_id: str | None = Field(default=None, alias="pullPaymentId")
    claim_link: str | None = Field(default=None, alias="claimLink")


class Readiness(Answer):
    status: str
