"""Feature grants: which feature a user has, through which pack (and bundle), until when."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FeatureGrant:
    feature: str
    pack_slug: str
    via_bundle: str | None
    expires_at: datetime | None  # None: for good

    def active_at(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "pack_slug": self.pack_slug,
            "via_bundle": self.via_bundle,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FeatureGrant":
        expires = data["expires_at"]
        return cls(
            data["feature"],
            data["pack_slug"],
            data["via_bundle"],
            datetime.fromisoformat(expires) if expires else None,
        )


def current_grants(grants: Iterable[FeatureGrant], now: datetime) -> dict[str, FeatureGrant]:
    """One grant per feature the user has now: the longest-lasting one (for good beats any date)."""
    best: dict[str, FeatureGrant] = {}
    for grant in grants:
        if not grant.active_at(now):
            continue
        held = best.get(grant.feature)
        if held is None or _lasts_longer(grant, held):
            best[grant.feature] = grant
    return dict(sorted(best.items()))


def _lasts_longer(a: FeatureGrant, b: FeatureGrant) -> bool:
    if b.expires_at is None:
        return False
    return a.expires_at is None or a.expires_at > b.expires_at
