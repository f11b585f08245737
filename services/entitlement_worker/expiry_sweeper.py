"""Ends access that ran out: active entitlements whose ``expires_at`` has passed get an ``expired``
update on the updates topic, applied by the worker like any provider update (idempotent ledger).

The update id names the entitlement's user, provider product, purchase and expiry, so every sweep
that sees the same expiry proposes the same update and ``entitlement.expired`` is announced once. A
renewal moves ``expires_at`` and so yields a new id for the next expiry. Generic: any provider.
"""

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.bundles import provider_products, purchased_pack
from shared.db.models import UserEntitlement
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.provider import Provider
from shared.messaging.entitlement_updates import EntitlementUpdatePublisher

log = structlog.get_logger(__name__)
SWEEP_BATCH = 500


async def expired_entitlement_updates(
    session: AsyncSession, now: datetime, *, grace_s: Mapping[Provider, float], limit: int = SWEEP_BATCH
) -> list[EntitlementUpdate]:
    """One ``expired`` update per purchase whose active entitlement ended before ``now - grace``.

    The grace is per provider: one that announces expirations itself (RevenueCat) gets a long one,
    so the sweep is only its safety net and never races a renewal that is merely late.
    """
    past_grace = or_(
        *(
            and_(
                UserEntitlement.source_provider == provider.value,
                UserEntitlement.expires_at < now - timedelta(seconds=grace),
            )
            for provider, grace in grace_s.items()
        )
    )
    rows = await session.execute(
        select(UserEntitlement)
        .where(
            UserEntitlement.status == EntitlementStatus.ACTIVE.value,
            UserEntitlement.expires_at.is_not(None),
            past_grace,
        )
        .order_by(UserEntitlement.expires_at)
        .limit(limit)
    )
    updates: dict[str, EntitlementUpdate] = {}
    for row in rows.scalars():
        target = await _provider_product(session, row)
        if target is None:
            log.warning("expiry_without_provider_product", entitlement_id=str(row.id))
            continue
        product_id, purchase_reference = target
        assert row.expires_at is not None
        # The user is part of it: two users of one product may share a reference shape and expiry.
        update_id = f"expiry:{row.user_id}:{product_id}:{purchase_reference}:{row.expires_at.isoformat()}"
        updates.setdefault(
            update_id,
            EntitlementUpdate(
                update_id=update_id,
                provider=Provider(row.source_provider),
                provider_event_type="expiry_sweep",
                user_id=row.user_id,
                provider_product_id=product_id,
                purchase_reference=purchase_reference,
                status=EntitlementStatus.EXPIRED,
                # Stamped with the update it rests on, not with the expiry: running out adds no news,
                # so any later provider update — a renewal paid before the expiry but applied after
                # this sweep, a refund — still wins (shared/domain/ledger.py ranks it above the
                # state it expires, as of the same instant).
                occurred_at=row.last_event_at,
                expires_at=row.expires_at,
                reason="expired",
            ),
        )
    return list(updates.values())


async def _provider_product(session: AsyncSession, row: UserEntitlement) -> tuple[str, str] | None:
    """The provider product (and purchase reference) an update must name to reach this row.

    An entitlement granted through a bundle is reached through the bundle's own product.
    """
    catalog_id, reference = await purchased_pack(session, row)
    if catalog_id is None:
        return None
    products = await provider_products(session, row.source_provider, catalog_id)
    return (products[0], reference) if products else None


class ExpirySweeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        producer: AIOKafkaProducer,
        updates_topic: str,
        *,
        interval_s: float,
        grace_s: Mapping[Provider, float],
    ) -> None:
        self._sessions = sessions
        self._updates = EntitlementUpdatePublisher(producer, updates_topic)
        self._interval_s = interval_s
        self._grace_s = grace_s

    async def sweep_once(self) -> int:
        """Publish the expiries due now (keyed by user, so they queue behind that user's updates)."""
        async with self._sessions() as session:
            updates = await expired_entitlement_updates(session, datetime.now(UTC), grace_s=self._grace_s)
        await self._updates.publish(updates)
        if updates:
            log.info("expiry_sweep", expired=len(updates))
        return len(updates)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("expiry_sweep_failed")
            await asyncio.sleep(self._interval_s)
