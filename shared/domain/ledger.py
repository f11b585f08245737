"""The ledger's rule for one entitlement: what an update does to its state and what it announces.

Pure, no I/O: shared/db/entitlements.py loads the states a batch touches, asks ``decide`` for each
(update, entitlement) in delivery order, and writes what changed. tests/unit/test_ledger_convergence.py
checks the rule with generated lifecycles, permuted and duplicated.

Updates are ordered by *precedence*: when it happened at the provider, then, for two at the same
instant, revoked over expired over active and the later expiry first — so the winner does not
depend on which of the two arrived first.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from shared.domain.entitlements import (
    EntitlementEventType,
    EntitlementStatus,
    EntitlementUpdate,
    event_type_for_transition,
)

_STATUS_RANK = {EntitlementStatus.ACTIVE: 0, EntitlementStatus.EXPIRED: 1, EntitlementStatus.REVOKED: 2}
_NO_END = datetime.max.replace(tzinfo=UTC)

Precedence = tuple[datetime, int, datetime]


@dataclass(frozen=True)
class EntitlementState:
    """One entitlement as the ledger holds it."""

    status: EntitlementStatus
    activated_at: datetime | None
    expires_at: datetime | None
    last_event_at: datetime
    reason: str | None

    @property
    def precedence(self) -> Precedence:
        return _precedence(self.last_event_at, self.status, self.expires_at)


@dataclass(frozen=True)
class Decision:
    """The entitlement after an update, and the event that announces the change (if access changed)."""

    state: EntitlementState
    announced: EntitlementEventType | None


def decide(current: EntitlementState | None, update: EntitlementUpdate) -> Decision | None:
    """What ``update`` does to an entitlement in ``current`` state; ``None``: it is older, nothing changes."""
    if current is not None and precedence_of(update) < current.precedence:
        return None
    announced = event_type_for_transition(
        current.status if current else None, current.expires_at if current else None, update
    )
    state = EntitlementState(
        status=update.status,
        activated_at=update.activated_at or (current.activated_at if current else None) or update.occurred_at,
        expires_at=update.expires_at,
        last_event_at=update.occurred_at,
        reason=update.reason,
    )
    return Decision(state, announced)


def precedence_of(update: EntitlementUpdate) -> Precedence:
    return _precedence(update.occurred_at, update.status, update.expires_at)


def _precedence(occurred_at: datetime, status: EntitlementStatus, expires_at: datetime | None) -> Precedence:
    return (occurred_at, _STATUS_RANK[status], expires_at or _NO_END)
