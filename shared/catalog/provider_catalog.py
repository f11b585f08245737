"""The catalog side of a billing provider: read its catalog, compare it with ours, push the difference.

``catalog_sync`` drives one ``ProviderCatalog`` per provider. It never deletes anything at a
provider: a pack we no longer sell is archived/retired where the provider allows it, and a
provider product no pack of ours maps to is only reported.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.domain.packs import BillingKind
from shared.domain.provider import Provider


@dataclass(frozen=True)
class WantedListing:
    """One pack as a provider should sell it (prices in minor units of ``currency``, msat for BTC)."""

    slug: str
    product_id: str
    display_name: str
    description: str
    features: list[str]
    billing_kind: BillingKind
    billing_period: str | None
    price: int
    currency: str
    sell: bool  # the pack is active and its flags do not hide it at this provider
    visuals: dict[str, Any] = field(default_factory=dict)
    provider_ids: dict[str, Any] = field(default_factory=dict)  # learned by earlier syncs


@dataclass(frozen=True)
class Divergence:
    """How one pack (or one provider product no pack maps to) differs at the provider."""

    product_id: str
    problems: list[str]
    slug: str | None = None  # None: the provider sells something we do not know
    repairable: bool = True  # False: reported only (never a deletion; or the API cannot do it)

    def to_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "product_id": self.product_id,
            "problems": self.problems,
            "repairable": self.repairable,
        }


@dataclass(frozen=True)
class Repair:
    """What a push did, and provider-side ids to remember on the listing (``provider_ids``)."""

    actions: list[str]
    provider_ids: dict[str, Any] = field(default_factory=dict)


class ProviderCatalog(Protocol):
    provider: Provider

    async def divergences(self, wanted: Sequence[WantedListing]) -> list[Divergence]:
        """Read the provider's catalog and compare it with ``wanted``; raises ``ProviderError``."""

    async def repair(self, divergence: Divergence, wanted: WantedListing) -> Repair:
        """Make the provider sell ``wanted`` as we do (after ``divergences``); raises ``ProviderError``."""

    def learned_ids(self) -> dict[str, dict[str, Any]]:
        """Provider-side ids seen by the last ``divergences`` read, by our product id."""
