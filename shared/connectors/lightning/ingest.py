"""Handler: a raw Lightning delivery names an invoice or payout; the provider's re-read decides.

Every delivery is recorded once in ``lightning_deliveries`` (by ``originalDeliveryId``/``deliveryId``,
webhook-id, or payment hash), including unknown event types, which change nothing. The updates
carry ids derived from the payment hash, so repeats of one settlement have one effect downstream.
"""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.connectors.lightning import invoice_store
from shared.connectors.lightning.adapter import LightningAdapter
from shared.connectors.lightning.delivery_targets import SettlementCheck, settlement_check
from shared.domain.entitlements import EntitlementUpdate
from shared.messaging.raw_deliveries import RawDelivery

log = structlog.get_logger(__name__)


async def lightning_updates(
    delivery: RawDelivery, adapter: LightningAdapter, sessions: async_sessionmaker[AsyncSession]
) -> list[EntitlementUpdate]:
    check = settlement_check(delivery.source or "", delivery.body, delivery.delivery_id or None)
    if not check.is_known_type:
        await _record(sessions, check, "ignored: unknown event type", [])
        log.info("lightning_delivery_ignored", source=check.source, event_type=check.event_type)
        return []
    updates = await adapter.validate_receipt(check)
    await _record(sessions, check, ",".join(u.status.value for u in updates) or "no effect", updates)
    log.info(
        "lightning_delivery_validated",
        source=check.source,
        event_type=check.event_type,
        invoice_ref=check.invoice_ref,
        updates=[(u.user_id, u.provider_product_id, u.status.value) for u in updates],
    )
    return updates


async def _record(
    sessions: async_sessionmaker[AsyncSession],
    check: SettlementCheck,
    outcome: str,
    updates: list[EntitlementUpdate],
) -> None:
    async with sessions() as session, session.begin():
        await invoice_store.record_delivery(
            session, check, outcome, {"updates": ",".join(u.update_id for u in updates)}
        )
