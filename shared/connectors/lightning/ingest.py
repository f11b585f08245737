"""Handler: a raw Lightning delivery names an invoice or payout; the provider's re-read decides.

Every delivery is recorded once in ``lightning_deliveries`` (by ``originalDeliveryId``/``deliveryId``,
webhook-id, or payment hash), including unknown event types, which change nothing. The updates
carry ids derived from the payment hash, so repeats of one settlement have one effect downstream.
"""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.connectors.lightning import invoice_store
from shared.connectors.lightning.adapter import LightningAdapter
from shared.connectors.lightning.delivery_targets import settlement_check
from shared.db.unit_of_work import unit_of_work
from shared.domain.entitlements import EntitlementUpdate
from shared.messaging.raw_deliveries import RawDelivery

log = structlog.get_logger(__name__)


async def lightning_updates(
    delivery: RawDelivery, adapter: LightningAdapter, sessions: async_sessionmaker[AsyncSession]
) -> list[EntitlementUpdate]:
    check = settlement_check(delivery.source or "", delivery.body, delivery.delivery_id or None)
    if not check.is_known_type:
        async with unit_of_work(sessions) as session:
            await invoice_store.record_delivery(
                session, check, "ignored: unknown event type", {"updates": ""}
            )
        log.info("lightning_delivery_ignored", source=check.source, event_type=check.event_type)
        return []
    # The re-read, its effect on the invoice and the delivery's record commit in one transaction.
    updates = await adapter.validate_receipt(check)
    log.info(
        "lightning_delivery_validated",
        source=check.source,
        event_type=check.event_type,
        invoice_ref=check.invoice_ref,
        updates=[(u.user_id, u.provider_product_id, u.status.value) for u in updates],
    )
    return updates
