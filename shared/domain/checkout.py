"""Checkout: what a client asks for and what the provider hands back."""

from datetime import datetime
from uuid import UUID

from pydantic import Field

from shared.domain.model import DomainModel
from shared.domain.provider import Provider


class CheckoutInput(DomainModel):
    user_id: str = Field(min_length=1, max_length=200)
    pack_slug: str = Field(min_length=1, max_length=100)
    provider: Provider
    success_url: str | None = None
    email: str | None = None


class CheckoutSession(DomainModel):
    """A started purchase: a URL to pay at (RevenueCat) or a BOLT11 invoice (Lightning)."""

    id: UUID
    user_id: str
    pack_slug: str
    provider: Provider
    checkout_url: str | None = None
    fallback_url: str | None = None
    lightning_invoice: str | None = None
    lnurl: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    amount_msat: int | None = None
    purchase_reference: str | None = None
    expires_at: datetime | None = None
