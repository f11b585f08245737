"""Generated provider lifecycles of one entitlement, as the updates ingest makes of them.

A lifecycle is what the provider's own records say happened, in its order; each step becomes the
``EntitlementUpdate`` the provider's ingest would produce (status, expiry, when it happened). The
provider's final truth is the state of the step with the highest precedence: the last one, or of
steps at the same instant the one shared/domain/ledger.py ranks first.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from shared.domain.entitlements import EntitlementStatus
from shared.domain.entitlements import EntitlementUpdate as Update
from shared.domain.provider import Provider

START = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD = timedelta(days=30)
A, E, R = EntitlementStatus.ACTIVE, EntitlementStatus.EXPIRED, EntitlementStatus.REVOKED

# What each provider event does to (status, expiry): RevenueCat's webhook types, Lightning's settlements.
REVENUECAT_STEPS = (
    "RENEWAL", "CANCELLATION", "UNCANCELLATION", "BILLING_ISSUE", "PRODUCT_CHANGE", "EXPIRATION",
    "REFUND", "REFUND_REVERSED", "TRANSFER",
)  # fmt: skip
LIGHTNING_STEPS = ("renewal_settled", "settled_late", "partial_payment", "refund", "expiry")
LATE_RENEWALS = {"renewal_settled", "settled_late"}
SWEEP = "expiry_sweep"  # our own sweeper's update (services/entitlement_worker/expiry_sweeper.py)


@dataclass(frozen=True)
class Lifecycle:
    provider: Provider
    updates: tuple[Update, ...]  # in the provider's order


def _step(kind: str, expiry: datetime | None) -> tuple[EntitlementStatus | None, datetime | None]:
    """(status, expiry) after ``kind``, given the expiry before it; no status: no update."""
    match kind:
        case "RENEWAL" | "renewal_settled" | "settled_late":
            return A, (expiry or START) + PERIOD
        case "CANCELLATION" | "UNCANCELLATION" | "BILLING_ISSUE":
            return A, expiry  # access until the period ends
        case "PRODUCT_CHANGE":
            return A, (expiry or START) + PERIOD // 2
        case "EXPIRATION" | "expiry":
            return E, expiry
        case "REFUND" | "refund" | "TRANSFER":
            return R, expiry
        case "REFUND_REVERSED":
            return A, expiry
        case "partial_payment":
            return None, None  # nothing granted: ingest makes no update of it
    raise AssertionError(kind)


@st.composite
def lifecycles(draw: st.DrawFn) -> Lifecycle:
    provider = draw(st.sampled_from([Provider.REVENUECAT, Provider.LIGHTNING]))
    kinds = draw(
        st.lists(st.sampled_from(REVENUECAT_STEPS if provider is Provider.REVENUECAT else LIGHTNING_STEPS),
                 max_size=8)
    )  # fmt: skip
    # Some steps share an instant (the same millisecond at the provider): the tie rule must decide.
    gaps = draw(st.lists(st.sampled_from([0, 1, 60, 86_400]), min_size=len(kinds), max_size=len(kinds)))
    status = A
    expiry: datetime | None = START + PERIOD
    at = START
    updates = [_update(provider, 0, "purchase", at, status, expiry)]
    late = draw(st.lists(st.booleans(), min_size=len(kinds), max_size=len(kinds)))
    for index, (kind, gap, renewal_late) in enumerate(zip(kinds, gaps, late, strict=True), start=1):
        previous_at = at
        at += timedelta(seconds=gap)
        new_status, new_expiry = _step(kind, expiry)
        if new_status is None:
            continue
        if renewal_late and gap and status is A and kind in LATE_RENEWALS:
            # Paid before the expiry, applied after our sweep expired the period it renews.
            updates.append(_sweep(provider, index, previous_at, expiry))
        status, expiry = new_status, new_expiry
        updates.append(_update(provider, index, kind, at, status, expiry))
    return Lifecycle(provider, tuple(updates))


def _sweep(provider: Provider, index: int, last_event_at: datetime, expiry: datetime | None) -> Update:
    """The sweeper's ``expired``: stamped with the update it rests on, as the sweeper stamps it."""
    return _update(provider, index, SWEEP, last_event_at, E, expiry).model_copy(
        update={"update_id": f"sweep-{index}"}
    )


def _update(
    provider: Provider,
    index: int,
    kind: str,
    at: datetime,
    status: EntitlementStatus,
    expiry: datetime | None,
) -> Update:
    return Update(
        update_id=f"evt-{index}",
        provider=provider,
        provider_event_type=kind,
        user_id="u1",
        provider_product_id="p1",
        purchase_reference="ref-1",
        status=status,
        occurred_at=at,
        activated_at=START,  # the original purchase date: both providers report it on every event
        expires_at=expiry,
    )
