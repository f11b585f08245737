"""Turns a RevenueCat webhook event into entitlement updates, as its docs describe each type."""

from shared.connectors.revenuecat.events import RevenueCatEvent, ms_to_datetime
from shared.connectors.revenuecat.users import user_id_from_app_user_ids
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.provider import Provider


class UnattributableEventError(ValueError):
    """The event names no user of ours (no ``rc_`` app user id); it is dead-lettered."""


ACTIVATING_TYPES = frozenset({"INITIAL_PURCHASE", "RENEWAL", "NON_RENEWING_PURCHASE"})


def normalize_event(event: RevenueCatEvent) -> list[EntitlementUpdate]:
    """Updates the event implies; an empty list for types that change no access."""
    if event.type not in ACTIVATING_TYPES:
        return []
    user_id = user_id_from_app_user_ids([event.app_user_id, event.original_app_user_id, *event.aliases])
    if user_id is None:
        raise UnattributableEventError(f"event {event.id} names no rc_ app user id")
    if not event.product_id:
        raise ValueError(f"event {event.id} ({event.type}) has no product_id")
    return [
        EntitlementUpdate(
            update_id=event.id,
            provider=Provider.REVENUECAT,
            provider_event_type=event.type,
            user_id=user_id,
            provider_product_id=event.product_id,
            purchase_reference=event.original_transaction_id or event.transaction_id or event.id,
            status=EntitlementStatus.ACTIVE,
            occurred_at=event.occurred_at,
            activated_at=ms_to_datetime(event.purchased_at_ms) if event.purchased_at_ms else None,
            expires_at=ms_to_datetime(event.expiration_at_ms) if event.expiration_at_ms else None,
        )
    ]
