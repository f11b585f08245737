"""MicroSaaS packs: named bundles of features sold once or by subscription."""

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from shared.domain.model import DomainModel
from shared.domain.provider import Provider


class BillingKind(StrEnum):
    ONE_TIME = "one_time"
    SUBSCRIPTION = "subscription"


class MicroSaasPack(DomainModel):
    """A pack as sold; prices are integer minor units of ``currency``."""

    id: UUID
    slug: str
    display_name: str
    description: str = ""
    features: list[str] = Field(default_factory=list)
    feature_flags: dict[str, bool | int] = Field(default_factory=dict, description="int: rollout.* flags")
    default_price: int = Field(ge=0, description="minor units (cents)")
    currency: str = Field(default="USD", min_length=3, max_length=3)
    billing_kind: BillingKind = BillingKind.ONE_TIME
    billing_period: str | None = Field(default=None, description="ISO 8601 duration, e.g. P1M")
    is_active: bool = True


class ProviderProduct(DomainModel):
    """How a pack is sold at one provider: its product id there and its price (minor units)."""

    provider: Provider
    provider_product_id: str = Field(min_length=1, max_length=200)
    currency: str = Field(min_length=3, max_length=3)
    price: int = Field(ge=0)
