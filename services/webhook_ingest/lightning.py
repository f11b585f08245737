"""Handler: a raw Lightning delivery names an invoice or payout; the provider's re-read decides.

Every delivery is recorded once in ``lightning_deliveries`` (by ``originalDeliveryId``/``deliveryId``,
webhook-id, or payment hash), including unknown event types, which change nothing. The updates
carry ids derived from the payment hash, so repeats of one settlement have one effect downstream.
"""

import structlog
from aiokafka.structs import ConsumerRecord

from services.webhook_ingest.context import IngestContext
from shared.connectors.lightning import invoices
from shared.connectors.lightning.deliveries import SettlementCheck, settlement_check
from shared.domain.entitlements import EntitlementUpdate

log = structlog.get_logger(__name__)


def _header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            return bytes(value).decode()
    return None


async def lightning_updates(
    record: ConsumerRecord[bytes, bytes], ctx: IngestContext
) -> list[EntitlementUpdate]:
    source = _header(record, "lightning-source") or ""
    check = settlement_check(source, record.value or b"", _header(record, "delivery-id"))
    if not check.is_known_type:
        await _record(ctx, check, "ignored: unknown event type", [])
        log.info("lightning_delivery_ignored", source=check.source, event_type=check.event_type)
        return []
    updates = await ctx.lightning.validate_receipt(check)
    await _record(ctx, check, ",".join(u.status.value for u in updates) or "no effect", updates)
    log.info(
        "lightning_delivery_validated",
        source=check.source,
        event_type=check.event_type,
        invoice_ref=check.invoice_ref,
        updates=[(u.user_id, u.provider_product_id, u.status.value) for u in updates],
    )
    return updates


async def _record(
    ctx: IngestContext, check: SettlementCheck, outcome: str, updates: list[EntitlementUpdate]
) -> None:
    async with ctx.sessions() as session, session.begin():
        await invoices.record_delivery(
            session, check, outcome, {"updates": ",".join(u.update_id for u in updates)}
        )
