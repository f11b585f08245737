"""What each RevenueCat webhook event type means for us (providers.md §1.3), as data.

Every event is a *trigger*, never the truth: the adapter re-reads the customer(s) an event names and
applies their snapshot (``snapshot.py``). This module says which customers to re-read, which products the
event is about, and what the event claims, so the claim can be logged beside what the snapshot says.
"""

from dataclasses import dataclass
from enum import StrEnum

from shared.connectors.revenuecat.events import RevenueCatEvent
from shared.connectors.revenuecat.users import app_user_id_for, user_id_from_app_user_ids
from shared.domain.entitlements import EntitlementStatus


class UnattributableEventError(ValueError):
    """The event names no user of ours (no ``rc_`` app user id); it is dead-lettered."""


class Handling(StrEnum):
    CONFIRM = "confirm"  # re-read the customer(s) and apply the snapshot
    RECORD_ONLY = "record_only"  # acknowledged and recorded; changes no access


class Claim(StrEnum):
    """What the event type says about access, per RevenueCat's docs."""

    GRANTS = "grants"
    KEEPS = "keeps"  # access unchanged until the period ends (cancel, pause, billing issue...)
    ENDS = "ends"
    REVOKES = "revokes"
    MOVES = "moves"  # TRANSFER: from transferred_from to transferred_to
    NOTHING = "nothing"


@dataclass(frozen=True)
class EventRule:
    handling: Handling
    claim: Claim


EVENT_RULES: dict[str, EventRule] = {
    "TEST": EventRule(Handling.RECORD_ONLY, Claim.NOTHING),
    "INITIAL_PURCHASE": EventRule(Handling.CONFIRM, Claim.GRANTS),
    # Also sent when a lapsed subscriber resubscribes.
    "RENEWAL": EventRule(Handling.CONFIRM, Claim.GRANTS),
    # Auto-renew off, or a refund (cancel_reason CUSTOMER_SUPPORT): see claim_of().
    "CANCELLATION": EventRule(Handling.CONFIRM, Claim.KEEPS),
    "UNCANCELLATION": EventRule(Handling.CONFIRM, Claim.KEEPS),
    "NON_RENEWING_PURCHASE": EventRule(Handling.CONFIRM, Claim.GRANTS),
    # Play only; never revoke here, the later EXPIRATION (reason SUBSCRIPTION_PAUSED) ends access.
    "SUBSCRIPTION_PAUSED": EventRule(Handling.CONFIRM, Claim.KEEPS),
    "EXPIRATION": EventRule(Handling.CONFIRM, Claim.ENDS),
    # Not an expiry: the store's grace period keeps access (grace_period_expiration_at_ms).
    "BILLING_ISSUE": EventRule(Handling.CONFIRM, Claim.KEEPS),
    # May take effect at the next renewal; the snapshot says which product grants access now.
    "PRODUCT_CHANGE": EventRule(Handling.CONFIRM, Claim.KEEPS),
    "TRANSFER": EventRule(Handling.CONFIRM, Claim.MOVES),
    "SUBSCRIPTION_EXTENDED": EventRule(Handling.CONFIRM, Claim.GRANTS),
    # Store outage cover, at most 24 h; followed by INITIAL_PURCHASE or EXPIRATION.
    "TEMPORARY_ENTITLEMENT_GRANT": EventRule(Handling.CONFIRM, Claim.GRANTS),
    "REFUND_REVERSED": EventRule(Handling.CONFIRM, Claim.GRANTS),
    # Legacy: two app user ids were merged, which can change what a customer owns.
    "SUBSCRIBER_ALIAS": EventRule(Handling.CONFIRM, Claim.KEEPS),
    # Web Billing: an unpaid invoice was issued; access changes only with the purchase events.
    "INVOICE_ISSUANCE": EventRule(Handling.RECORD_ONLY, Claim.NOTHING),
    # Virtual currency balances are not entitlements.
    "VIRTUAL_CURRENCY_TRANSACTION": EventRule(Handling.RECORD_ONLY, Claim.NOTHING),
}
# RevenueCat adds event types without a version bump: acknowledge and record them, change nothing.
UNKNOWN_TYPE_RULE = EventRule(Handling.RECORD_ONLY, Claim.NOTHING)
REFUND_CANCEL_REASON = "CUSTOMER_SUPPORT"


def rule_for(event: RevenueCatEvent) -> EventRule:
    return EVENT_RULES.get(event.type, UNKNOWN_TYPE_RULE)


def is_known_type(event_type: str) -> bool:
    return event_type in EVENT_RULES


def claim_of(event: RevenueCatEvent) -> Claim:
    """The event's claim, refining CANCELLATION: a refund revokes, an unsubscribe keeps access."""
    if event.type == "CANCELLATION" and event.cancel_reason == REFUND_CANCEL_REASON:
        return Claim.REVOKES
    return rule_for(event).claim


CLAIMED_STATUS: dict[Claim, EntitlementStatus] = {
    Claim.GRANTS: EntitlementStatus.ACTIVE,
    Claim.KEEPS: EntitlementStatus.ACTIVE,
    Claim.ENDS: EntitlementStatus.EXPIRED,
    Claim.REVOKES: EntitlementStatus.REVOKED,
}


@dataclass(frozen=True)
class ConfirmationPlan:
    """Which customers an event makes us re-read, and the products it names.

    For a TRANSFER the subject is the destination and ``transfer_source`` the customer it left; either
    may be someone else's (then ``None``), but at least one is ours.
    """

    subject: str | None  # our user id whose snapshot is applied
    read_app_user_id: str  # the app user id to read the subject (or transfer destination) by
    transfer_source: str | None
    named_products: frozenset[str]


def plan_confirmation(event: RevenueCatEvent) -> ConfirmationPlan:
    """The customers to re-read; users are matched by app user id, original app user id and aliases."""
    named = frozenset(p for p in (event.product_id, event.new_product_id) if p)
    if event.type == "TRANSFER":
        destination_ids = event.transferred_to or []
        destination = user_id_from_app_user_ids(destination_ids)
        source = user_id_from_app_user_ids(event.transferred_from or [])
        if (destination is None and source is None) or not destination_ids:
            raise UnattributableEventError(f"event {event.id} (TRANSFER) moves nothing of a user of ours")
        read_by = app_user_id_for(destination) if destination else destination_ids[0]
        return ConfirmationPlan(destination, read_by, source, named)
    user_id = user_id_from_app_user_ids([event.app_user_id, event.original_app_user_id, *event.aliases])
    if user_id is None:
        raise UnattributableEventError(f"event {event.id} ({event.type}) names no rc_ app user id")
    return ConfirmationPlan(user_id, app_user_id_for(user_id), None, named)
