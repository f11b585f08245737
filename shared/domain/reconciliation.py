"""Ledger against provider truth: which entitlements drifted, and the update that corrects each.

Compared per ledger entitlement (user, pack, purchase reference) within one provider. A provider
purchase may land on several entitlements (a bundle grants each child pack), so the caller says
where each truth lands. Corrections are ordinary ``EntitlementUpdate``s in the provider's terms,
applied by the worker like any other; their id hashes what was seen on both sides, so a second
run that sees the same drift (its fix still queued) proposes the same update and the worker's
dedupe drops it, while a later, different drift gets a new id.
"""

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.provider import Provider

# Providers report times to the second or millisecond; the ledger keeps microseconds.
EXPIRY_TOLERANCE = timedelta(seconds=1)
RECONCILE_EVENT_TYPE = "RECONCILE"


class DriftKind(StrEnum):
    MISSING = "missing"  # the provider grants access the ledger does not have
    EXTRA = "extra"  # the ledger grants access the provider knows nothing of
    WRONG_STATUS = "wrong_status"
    WRONG_EXPIRY = "wrong_expiry"


@dataclass(frozen=True)
class LedgerKey:
    """One ledger entitlement: ``purchase_reference`` as the ledger holds it (bundle prefix included)."""

    user_id: str
    catalog_id: uuid.UUID
    purchase_reference: str


@dataclass(frozen=True)
class LedgerEntry:
    """A ledger row, with the provider product and reference an update must name to reach it."""

    key: LedgerKey
    status: EntitlementStatus
    expires_at: datetime | None
    last_event_at: datetime
    updated_at: datetime
    provider_product_id: str
    provider_reference: str


@dataclass(frozen=True)
class ProviderTruth:
    """What the provider says one purchase grants, as of ``observed_at``."""

    user_id: str
    provider_product_id: str
    purchase_reference: str
    status: EntitlementStatus
    observed_at: datetime
    activated_at: datetime | None = None
    expires_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Drift:
    provider: Provider
    kind: DriftKind
    key: LedgerKey
    ledger: LedgerEntry | None
    truth: ProviderTruth | None
    correction: EntitlementUpdate


# (provider product id, provider purchase reference) -> the ledger entitlements it lands on
Landings = Mapping[tuple[str, str], Sequence[tuple[uuid.UUID, str]]]


def find_drift(
    provider: Provider, ledger: Sequence[LedgerEntry], truth: Sequence[ProviderTruth], landings: Landings
) -> list[Drift]:
    """Every disagreement between the ledger rows and the truth of the same users, in a stable order.

    A provider state that grants nothing (expired, revoked) without a ledger row is no drift, and
    neither is a ledger row without truth that grants nothing.
    """
    rows = {entry.key: entry for entry in ledger}
    drifts: list[Drift] = []
    seen: set[LedgerKey] = set()
    for fact in truth:
        landed = landings.get((fact.provider_product_id, fact.purchase_reference), ())
        keys = [LedgerKey(fact.user_id, catalog_id, reference) for catalog_id, reference in landed]
        seen.update(keys)
        kinds = {key: _disagreement(rows.get(key), fact) for key in keys}
        if not any(kinds.values()):
            continue
        # one update reaches every entitlement the purchase landed on (a bundle's children)
        correction = _correction(provider, fact, [rows[key] for key in keys if key in rows])
        drifts += [
            Drift(provider, kind, key, rows.get(key), fact, correction)
            for key, kind in kinds.items()
            if kind is not None
        ]
    unknown: dict[tuple[str, str, str], list[LedgerEntry]] = {}
    for key, row in rows.items():
        if key not in seen and row.status is EntitlementStatus.ACTIVE:
            purchase = (key.user_id, row.provider_product_id, row.provider_reference)
            unknown.setdefault(purchase, []).append(row)
    for extra in unknown.values():  # one revocation per purchase reaches all it granted
        revocation = _revocation(provider, extra)
        drifts += [Drift(provider, DriftKind.EXTRA, row.key, row, None, revocation) for row in extra]
    return sorted(drifts, key=lambda d: (d.key.user_id, d.key.purchase_reference, str(d.key.catalog_id)))


def corrections(drifts: Sequence[Drift]) -> list[EntitlementUpdate]:
    """The updates that correct ``drifts``, once each (a bundle's children share one)."""
    return list({d.correction.update_id: d.correction for d in drifts}.values())


def _disagreement(row: LedgerEntry | None, fact: ProviderTruth) -> DriftKind | None:
    if row is None:
        return DriftKind.MISSING if fact.status is EntitlementStatus.ACTIVE else None
    if row.status is not fact.status:
        if _expiry_pending(row, fact):
            return None
        return DriftKind.WRONG_STATUS
    # the end of access that is over changes nothing, so only a granting row's expiry is compared
    if fact.status is EntitlementStatus.ACTIVE and not _same_moment(row.expires_at, fact.expires_at):
        return DriftKind.WRONG_EXPIRY
    return None


def _expiry_pending(row: LedgerEntry, fact: ProviderTruth) -> bool:
    """Access the ledger already ends at the provider's expiry, not yet closed: the provider's
    expiration event or the expiry sweep (after its grace) closes it, so it is no drift."""
    return (
        row.status is EntitlementStatus.ACTIVE
        and fact.status is EntitlementStatus.EXPIRED
        and _same_moment(row.expires_at, fact.expires_at)
    )


def _same_moment(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < EXPIRY_TOLERANCE


def _correction(provider: Provider, fact: ProviderTruth, rows: Sequence[LedgerEntry]) -> EntitlementUpdate:
    return EntitlementUpdate(
        update_id=correction_id(fact.purchase_reference, _seen(fact=fact, rows=rows)),
        provider=provider,
        provider_event_type=RECONCILE_EVENT_TYPE,
        user_id=fact.user_id,
        provider_product_id=fact.provider_product_id,
        purchase_reference=fact.purchase_reference,
        status=fact.status,
        # Never older than what the row already holds, or the ledger would ignore the correction.
        occurred_at=max([fact.observed_at, *(row.last_event_at for row in rows)]),
        activated_at=fact.activated_at,
        expires_at=fact.expires_at,
        reason=fact.reason,
    )


def _revocation(provider: Provider, rows: Sequence[LedgerEntry]) -> EntitlementUpdate:
    row = rows[0]
    return EntitlementUpdate(
        update_id=correction_id(row.provider_reference, _seen(fact=None, rows=rows)),
        provider=provider,
        provider_event_type=RECONCILE_EVENT_TYPE,
        user_id=row.key.user_id,
        provider_product_id=row.provider_product_id,
        purchase_reference=row.provider_reference,
        status=EntitlementStatus.REVOKED,
        occurred_at=max(r.last_event_at for r in rows),
        expires_at=row.expires_at,
        reason=f"not found at {provider.value} by reconcile",
    )


def correction_id(purchase_reference: str, seen: Mapping[str, object]) -> str:
    """``reconcile:<reference>:<hash of both sides>``: stable while the drift is the same."""
    digest = hashlib.sha256(json.dumps(seen, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return f"reconcile:{purchase_reference}:{digest}"


def _seen(*, fact: ProviderTruth | None, rows: Sequence[LedgerEntry]) -> dict[str, object]:
    """Both sides as compared; the row's times make a repeat of an old drift a new correction."""
    return {
        "truth": None
        if fact is None
        else {
            "user": fact.user_id,
            "product": fact.provider_product_id,
            "reference": fact.purchase_reference,
            "status": fact.status.value,
            "expires_at": fact.expires_at,
            "reason": fact.reason,
        },
        "ledger": [
            {
                "user": row.key.user_id,
                "catalog_id": row.key.catalog_id,
                "reference": row.key.purchase_reference,
                "status": row.status.value,
                "expires_at": row.expires_at,
                "last_event_at": row.last_event_at,
                "updated_at": row.updated_at,
            }
            for row in rows
        ],
    }
