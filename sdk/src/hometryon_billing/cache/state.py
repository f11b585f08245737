"""What the entitlement cache knows, and the one rule that changes it (pure: no I/O, no clock).

Per tracked user: their entitlements (by id, as the newest event or the bootstrap left them) and,
derived from them, ``feature -> expiry`` (``None``: for good), so a check is two dict lookups.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from hometryon_billing.models import Entitlement

# Event ids already applied, kept to drop a redelivery (the relay's own guard makes them rare).
SEEN_IDS_KEPT = 100_000


class Outcome(StrEnum):
    APPLIED = "applied"
    UNTRACKED_USER = "untracked_user"
    DUPLICATE = "duplicate"
    OLDER_THAN_HELD = "older_than_held"


@dataclass(frozen=True)
class Held:
    """One entitlement as held; ``event_time`` is the CloudEvent's ``time`` (None: from bootstrap)."""

    pack_id: str
    status: str
    expires_at: float | None  # epoch seconds; None: no end
    event_time: datetime | None


@dataclass
class UserState:
    entitlements: dict[str, Held] = field(default_factory=dict)
    features: dict[str, float | None] = field(default_factory=dict)


@dataclass
class CacheState:
    # pack id -> the features it grants (feature flags applied, as the gateway lists them)
    pack_features: dict[str, frozenset[str]] = field(default_factory=dict)
    users: dict[str, UserState] = field(default_factory=dict)
    seen_ids: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def load_user(self, user_id: str, entitlements: list[Entitlement]) -> None:
        """The user's state as the API answered it (the bootstrap)."""
        user = UserState({str(e.entitlement_id): _held(e, None) for e in entitlements})
        self.users[user_id] = user
        self.derive(user)

    def apply(self, event_id: str, event_time: datetime, entitlement: Entitlement) -> Outcome:
        """An entitlement CloudEvent: the entitlement's state after the change, in partition order."""
        user = self.users.get(entitlement.user_id)
        if user is None:
            return Outcome.UNTRACKED_USER
        if event_id in self.seen_ids:
            return Outcome.DUPLICATE
        key = str(entitlement.entitlement_id)
        held = user.entitlements.get(key)
        # Partition order already orders one user's events; this guards against a replayed older one.
        if held is not None and held.event_time is not None and event_time < held.event_time:
            return Outcome.OLDER_THAN_HELD
        self._remember(event_id)
        user.entitlements[key] = _held(entitlement, event_time)
        self.derive(user)
        return Outcome.APPLIED

    def allowed(self, user: UserState, feature: str, now: float) -> bool:
        if feature not in user.features:
            return False
        expires_at = user.features[feature]
        return expires_at is None or expires_at > now

    def missing_packs(self, pack_ids: set[str]) -> set[str]:
        return pack_ids - self.pack_features.keys()

    def derive(self, user: UserState) -> None:
        """The user's ``feature -> expiry`` from their active entitlements (again after packs load)."""
        features: dict[str, float | None] = {}
        for held in user.entitlements.values():
            if held.status != "active":
                continue
            for feature in self.pack_features.get(held.pack_id, frozenset()):
                features[feature] = _longest(features.get(feature, 0.0), held.expires_at)
        user.features = features

    def _remember(self, event_id: str) -> None:
        self.seen_ids[event_id] = None
        if len(self.seen_ids) > SEEN_IDS_KEPT:
            self.seen_ids.popitem(last=False)


def _held(entitlement: Entitlement, event_time: datetime | None) -> Held:
    end = entitlement.expiration_date
    return Held(str(entitlement.pack_id), entitlement.status, end.timestamp() if end else None, event_time)


def _longest(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return max(a, b)
