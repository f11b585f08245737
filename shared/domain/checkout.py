"""Checkout: what a client asks for and what the provider hands back, in the seed's names.

``CheckoutInput`` takes the seed's ``packId`` (a pack id or slug) and ``metadata``; today's
``packSlug`` is still accepted; ``market`` (ISO 3166-1 alpha-2) is ours, for the pack's gates.
``CheckoutSession`` adds the seed's ``sessionId`` and ``url`` to
today's fields.
"""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    Field,
    StringConstraints,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from shared.domain.markets import market_code
from shared.domain.model import DomainModel
from shared.domain.provider import Provider

# A few short labels, not a document: inside what RevenueCat keeps as custom attributes (values of
# at most 500 characters) and what a checkout record should carry; BTCPay takes any JSON.
METADATA_MAX_ENTRIES = 20
METADATA_KEY_MAX_CHARS = 40
METADATA_VALUE_MAX_CHARS = 500
METADATA_KEY = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MetadataKey = Annotated[
    str, StringConstraints(min_length=1, max_length=METADATA_KEY_MAX_CHARS, pattern=METADATA_KEY)
]
MetadataValue = Annotated[str, StringConstraints(max_length=METADATA_VALUE_MAX_CHARS)]
CheckoutMetadata = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=METADATA_MAX_ENTRIES)]


class CheckoutInput(DomainModel):
    user_id: str = Field(min_length=1, max_length=200)
    pack_id: str = Field(min_length=1, max_length=100, description="the pack's id, or its slug")
    pack_slug: str | None = Field(
        default=None, min_length=1, max_length=100, description="today's name; must agree with packId"
    )
    provider: Provider
    metadata: CheckoutMetadata = Field(default_factory=dict, description="kept with the session, sent on")
    success_url: str | None = None
    email: str | None = None
    market: str | None = Field(
        default=None, description="the buyer's country, ISO 3166-1 alpha-2; the pack's market gates apply"
    )

    @model_validator(mode="before")
    @classmethod
    def _pack_id_from_todays_name(cls, data: Any) -> Any:
        """A client of today's API names the pack by ``packSlug`` only."""
        if not isinstance(data, dict) or "packId" in data or "pack_id" in data:
            return data
        slug = data.get("packSlug", data.get("pack_slug"))
        return data if slug is None else {**data, "packId": slug}

    @field_validator("market")
    @classmethod
    def _market_is_a_country(cls, market: str | None) -> str | None:
        if market is None:
            return None
        code = market_code(market)
        if code is None:
            raise ValueError(f"market {market!r} is not an ISO 3166-1 alpha-2 country code")
        return code

    @field_validator("pack_slug")
    @classmethod
    def _slug_agrees_with_pack_id(cls, slug: str | None, info: ValidationInfo) -> str | None:
        pack_id = info.data.get("pack_id")
        if slug is not None and pack_id is not None and pack_id != slug and not _is_uuid(pack_id):
            raise ValueError(f"packSlug {slug!r} and packId {pack_id!r} name different packs")
        return slug


class CheckoutSession(DomainModel):
    """A started purchase: a URL to pay at (RevenueCat) or a BOLT11 invoice (Lightning)."""

    id: UUID
    user_id: str
    pack_slug: str
    provider: Provider
    pack_id: UUID | None = None
    checkout_url: str | None = None
    fallback_url: str | None = None
    lightning_invoice: str | None = None
    lnurl: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    amount_msat: int | None = None
    purchase_reference: str | None = None
    expires_at: datetime | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def session_id(self) -> UUID:
        """The seed's name for ``id``."""
        return self.id

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str | None:
        """Where to send the buyer: the checkout page, or the invoice as a ``lightning:`` URI."""
        if self.checkout_url is not None:
            return self.checkout_url
        return f"lightning:{self.lightning_invoice}" if self.lightning_invoice else None


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True
