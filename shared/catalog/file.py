"""The declarative catalog file (YAML): packs and how each is sold at each provider."""

import uuid
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from shared.domain.packs import BillingKind, MicroSaasPack, ProviderProduct
from shared.domain.provider import Provider

# Pack ids are derived from slugs so that applying a file twice yields the same ids.
PACK_ID_NAMESPACE = uuid.UUID("6f1c2c52-5d0e-4c57-9d0c-2f4f0b6f1a10")


class ProviderListing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1)
    price: int = Field(ge=0, description="minor units of currency")
    currency: str = Field(min_length=3, max_length=3)


class PackEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,98}$")
    display_name: str = Field(min_length=1)
    description: str = ""
    features: list[str] = Field(default_factory=list)
    feature_flags: dict[str, bool] = Field(default_factory=dict)
    price: int = Field(ge=0, description="default price, minor units of currency")
    currency: str = Field(default="USD", min_length=3, max_length=3)
    billing_kind: BillingKind = BillingKind.ONE_TIME
    billing_period: str | None = None
    providers: dict[Provider, ProviderListing] = Field(default_factory=dict)

    def to_pack(self) -> MicroSaasPack:
        return MicroSaasPack(
            id=uuid.uuid5(PACK_ID_NAMESPACE, self.slug),
            slug=self.slug,
            display_name=self.display_name,
            description=self.description,
            features=self.features,
            feature_flags=self.feature_flags,
            default_price=self.price,
            currency=self.currency,
            billing_kind=self.billing_kind,
            billing_period=self.billing_period,
        )

    def provider_products(self) -> list[ProviderProduct]:
        return [
            ProviderProduct(
                provider=provider,
                provider_product_id=listing.product_id,
                currency=listing.currency,
                price=listing.price,
            )
            for provider, listing in self.providers.items()
        ]


class CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    packs: list[PackEntry]


def load_catalog_file(path: Path) -> CatalogFile:
    return CatalogFile.model_validate(yaml.safe_load(path.read_text()))
