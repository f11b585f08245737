"""A user's feature grants, read from active entitlements and the features of their packs."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog.gating import enabled_features
from shared.catalog.grants import FeatureGrant
from shared.db.bundles import bundle_slug_of_reference
from shared.db.models import BillingCatalog, UserEntitlement
from shared.domain.entitlements import EntitlementStatus


async def load_feature_grants(session: AsyncSession, user_id: str) -> list[FeatureGrant]:
    """Every feature of every active entitlement, expiring ones included (callers filter by time).

    A pack no longer sold (inactive) still grants its features to those who own it.
    """
    rows = await session.execute(
        select(UserEntitlement.purchase_reference, UserEntitlement.expires_at, BillingCatalog)
        .join(BillingCatalog, BillingCatalog.id == UserEntitlement.catalog_id)
        .where(
            UserEntitlement.user_id == user_id,
            UserEntitlement.status == EntitlementStatus.ACTIVE.value,
        )
        .order_by(UserEntitlement.activated_at, UserEntitlement.id)
    )
    return [
        grant
        for reference, expires_at, pack in rows
        for grant in pack_feature_grants(pack, reference, expires_at)
    ]


def pack_feature_grants(
    pack: BillingCatalog, purchase_reference: str, expires_at: datetime | None
) -> list[FeatureGrant]:
    """The grants one active entitlement of ``pack`` gives (its features, flags applied)."""
    via_bundle = bundle_slug_of_reference(purchase_reference)
    return [
        FeatureGrant(feature, pack.slug, via_bundle, expires_at)
        for feature in enabled_features(pack.features, pack.feature_flags)
    ]
