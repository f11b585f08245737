"""Handler: a RevenueCat delivery is a trigger; the subscribers API confirms it (never the payload).

TEST, record-only and unknown event types are acknowledged, logged and recorded in
``revenuecat_unapplied_events``, and change nothing.
"""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.connectors.revenuecat.adapter import RevenueCatAdapter
from shared.connectors.revenuecat.event_log import record_unapplied_event
from shared.connectors.revenuecat.events import RevenueCatEvent, RevenueCatWebhook
from shared.connectors.revenuecat.normalize import Handling, is_known_type, rule_for
from shared.db.unit_of_work import unit_of_work
from shared.domain.entitlements import EntitlementUpdate
from shared.messaging.raw_deliveries import RawDelivery

log = structlog.get_logger(__name__)


async def revenuecat_updates(
    delivery: RawDelivery, adapter: RevenueCatAdapter, sessions: async_sessionmaker[AsyncSession]
) -> list[EntitlementUpdate]:
    webhook = RevenueCatWebhook.model_validate_json(delivery.body)
    event = webhook.event
    if rule_for(event).handling is Handling.RECORD_ONLY:
        await _record_without_effect(webhook, sessions)
        return []
    updates = await adapter.validate_receipt(event, received_at_ms=delivery.received_at_ms)
    log.info(
        "revenuecat_event_confirmed",
        event_id=event.id,
        event_type=event.type,
        updates=[(u.user_id, u.provider_product_id, u.status.value) for u in updates],
    )
    return updates


def _unapplied_reason(event: RevenueCatEvent) -> str:
    if event.type == "TEST":
        return "test event"
    if not is_known_type(event.type):
        return "unknown event type"
    return "event type changes no access"


async def _record_without_effect(
    webhook: RevenueCatWebhook, sessions: async_sessionmaker[AsyncSession]
) -> None:
    event = webhook.event
    reason = _unapplied_reason(event)
    async with unit_of_work(sessions) as session:
        first = await record_unapplied_event(
            session,
            event_id=event.id,
            event_type=event.type,
            reason=reason,
            app_user_id=event.app_user_id,
            event_timestamp=event.occurred_at,
            payload=_without_personal_data(webhook),
        )
    log.info(
        "revenuecat_event_acknowledged_without_effect",
        event_id=event.id,
        event_type=event.type,
        reason=reason,
        duplicate=not first,
    )


def _without_personal_data(webhook: RevenueCatWebhook) -> dict[str, object]:
    """The payload as recorded: subscriber attributes ($email, device ids...) are not kept."""
    payload = webhook.model_dump(mode="json")
    payload["event"].pop("subscriber_attributes", None)
    return payload
