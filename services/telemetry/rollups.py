"""What one event adds to the rollups (pure): counts and money per hour, pack, provider, market.

Two inputs: the telemetry topic's own events (views, checkouts started, expired invoices, webhooks)
and the entitlement CloudEvents, from which the funnel's paid steps are derived. An activation is a
``checkout.completed`` (RevenueCat) or ``invoice.settled`` (Lightning) unless it is a bundle's child
(reference ``bundle:…``), which is counted as an entitlement only: the bundle was the one purchase.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.db.telemetry_models import (
    LATENCY_BOUNDS_MS,
    NO_VALUE,
    WEBHOOK_ACCEPT_MS,
    WEBHOOK_TO_ENTITLEMENT_MS,
)
from shared.messaging.telemetry import TelemetryEvent, TelemetryType

COUNTED_TELEMETRY = frozenset(
    {
        TelemetryType.PACK_VIEWED,
        TelemetryType.CHECKOUT_STARTED,
        TelemetryType.INVOICE_EXPIRED,
        TelemetryType.WEBHOOK_RECEIVED,
    }
)
ENTITLEMENT_METRICS = {
    "entitlement.activated": TelemetryType.ENTITLEMENT_ACTIVATED,
    "entitlement.expired": TelemetryType.ENTITLEMENT_EXPIRED,
    "entitlement.revoked": TelemetryType.ENTITLEMENT_REVOKED,
}  # entitlement.renewed keeps access as it was: nothing to count
COMPLETION_OF_PROVIDER = {
    "revenuecat": TelemetryType.CHECKOUT_COMPLETED,
    "lightning": TelemetryType.INVOICE_SETTLED,
}
BUNDLE_REFERENCE_PREFIX = "bundle:"
ONE_MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class RollupKey:
    hour: datetime
    metric: str
    pack: str = NO_VALUE
    provider: str = NO_VALUE
    market: str = NO_VALUE
    currency: str = NO_VALUE


@dataclass(frozen=True)
class Counted:
    key: RollupKey
    amount_minor: int = 0
    amount_msat: int = 0


@dataclass(frozen=True)
class LatencySample:
    hour: datetime
    metric: str
    provider: str
    latency_ms: int

    @property
    def le_ms(self) -> int:
        return next(bound for bound in LATENCY_BOUNDS_MS if self.latency_ms <= bound)


@dataclass(frozen=True)
class Paid:
    """What the checkout behind a completion asked for (integer minor units and msat)."""

    currency: str
    amount_minor: int
    amount_msat: int


@dataclass(frozen=True)
class PairHalf:
    """What one event knows of a webhook → entitlement pair: its arrival or its entitlement's commit."""

    update_key: str
    provider: str
    received_at: datetime | None = None
    committed_at: datetime | None = None

    def joined(self, other: "PairHalf") -> "PairHalf":
        """Both halves in one (the first known of each time wins, as in the stored pair)."""
        return PairHalf(
            self.update_key,
            self.provider,
            self.received_at or other.received_at,
            self.committed_at or other.committed_at,
        )


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _text(value: object) -> str:
    return value if isinstance(value, str) else NO_VALUE


def _integer(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def counted_of_telemetry(event: TelemetryEvent) -> list[Counted]:
    if event.type not in COUNTED_TELEMETRY:
        return []
    data = event.data
    key = RollupKey(
        hour=hour_of(event.time),
        metric=event.type.value,
        pack=_text(data.get("pack")),
        provider=_text(data.get("provider")),
        market=_text(data.get("market")),
        currency=_text(data.get("currency")),
    )
    return [Counted(key, _integer(data.get("amountMinor")), _integer(data.get("amountMsat")))]


def latencies_of_telemetry(event: TelemetryEvent) -> list[LatencySample]:
    if event.type is not TelemetryType.WEBHOOK_RECEIVED:
        return []
    latency = max(0, _integer(event.data.get("acceptLatencyMs")))
    return [LatencySample(hour_of(event.time), WEBHOOK_ACCEPT_MS, _text(event.data.get("provider")), latency)]


def counted_of_entitlement(event: dict[str, Any], moment: datetime, paid: Paid | None) -> list[Counted]:
    """``event``: an entitlement CloudEvent (docs/events.md); ``paid``: its checkout, if one is known."""
    metric = ENTITLEMENT_METRICS.get(str(event.get("type")))
    if metric is None:
        return []
    data = event.get("data") or {}
    pack, provider = _text(data.get("pack_slug")), _text(data.get("source_provider"))
    counted = [Counted(RollupKey(hour_of(moment), metric.value, pack, provider))]
    completion = COMPLETION_OF_PROVIDER.get(provider)
    reference = _text(data.get("purchase_reference"))
    if (
        metric is TelemetryType.ENTITLEMENT_ACTIVATED
        and completion
        and not reference.startswith(BUNDLE_REFERENCE_PREFIX)
    ):
        # The market is not known at completion (checkouts do not record it): counted under "".
        key = RollupKey(
            hour_of(moment), completion.value, pack, provider, currency=paid.currency if paid else ""
        )
        counted.append(Counted(key, paid.amount_minor if paid else 0, paid.amount_msat if paid else 0))
    return counted


def received_at_of(received_at_ms: int) -> datetime:
    return datetime.fromtimestamp(received_at_ms / 1000, UTC)


def webhook_to_entitlement(received: datetime, committed: datetime, provider: str) -> LatencySample:
    """From the delivery's arrival at the gateway to the commit of the entitlement it led to."""
    latency_ms = max(0, (committed - received) // ONE_MS)
    return LatencySample(hour_of(committed), WEBHOOK_TO_ENTITLEMENT_MS, provider, latency_ms)
