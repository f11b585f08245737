"""Writes catalog changes: only what differs from the stored catalog, each announced on the outbox.

Every write (file apply, admin API) goes the same way: lock the catalog, read it whole, put the
wanted packs in place, check the result as one catalog, write the difference, and record one
``catalog.pack.*`` event per changed pack for ``billing.catalog.changes`` in the same transaction.
"""

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog.errors import CatalogError, CatalogIssue
from shared.catalog.file import pack_id_for
from shared.catalog.model import PackSpec
from shared.catalog.resolve import ResolvedListing, ResolvedPack, resolve_catalog
from shared.db.catalog_models import BundleItem, BundlePricing, CatalogFileMembership
from shared.db.catalog_state import StoredListing, StoredPack, load_stored_catalog
from shared.db.models import BillingCatalog, BillingCatalogProvider, Outbox
from shared.domain.cloudevents import CloudEvent
from shared.domain.provider import Provider

CATALOG_LOCK_KEY = 0x6361_7461  # "cata": one catalog writer at a time
CATALOG_EVENT_SOURCE = "hometryon-billing/catalog"


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"


@dataclass(frozen=True)
class PackChange:
    slug: str
    kind: ChangeKind
    fields: list[str]


@dataclass(frozen=True)
class PackValues:
    """What is stored for one pack, in a form two catalogs can be compared in."""

    columns: dict[str, Any]
    listings: dict[str, dict[str, Any]]
    bundle: dict[str, Any] | None

    def differences(self, other: "PackValues") -> list[str]:
        fields = [name for name, value in self.columns.items() if other.columns.get(name) != value]
        fields += [
            f"providers.{p}"
            for p in sorted(self.listings.keys() | other.listings.keys())
            if self.listings.get(p) != other.listings.get(p)
        ]
        if self.bundle != other.bundle:
            fields.append("bundle")
        return fields


PACK_COLUMNS = (
    "display_name",
    "description",
    "features",
    "feature_flags",
    "default_price",
    "currency",
    "billing_kind",
    "billing_period",
    "visuals",
    "is_active",
)


def resolved_values(pack: ResolvedPack) -> PackValues:
    spec = pack.spec
    columns = {
        "display_name": spec.display_name,
        "description": spec.description,
        "features": list(pack.features),
        "feature_flags": dict(spec.feature_flags),
        "default_price": pack.price,
        "currency": pack.currency,
        "billing_kind": spec.billing_kind.value,
        "billing_period": spec.billing_period,
        "visuals": spec.visuals.model_dump(exclude_none=True),
        "is_active": spec.active,
    }
    listings = _listing_values(pack.listings)
    bundle = None
    if spec.is_bundle:
        bundle = {
            "own_price": spec.price,
            "own_provider_prices": {
                p.value: {"price": lst.price, "currency": lst.currency}
                for p, lst in spec.providers.items()
                if lst.price is not None
            },
            "children": list(spec.bundle),
        }
    return PackValues(columns, listings, bundle)


def stored_values(pack: StoredPack) -> PackValues:
    # Same keys as resolved_values builds; jsonb values are copied so later edits cannot alias them.
    columns = {name: copy.deepcopy(getattr(pack.row, name)) for name in PACK_COLUMNS}
    listings = _listing_values(pack.listings)
    bundle = None
    if pack.pricing is not None:
        bundle = {
            "own_price": pack.pricing.own_price,
            "own_provider_prices": dict(pack.pricing.own_provider_prices),
            "children": list(pack.children),
        }
    return PackValues(columns, listings, bundle)


def _listing_values(
    listings: Mapping[Provider, ResolvedListing | StoredListing],
) -> dict[str, dict[str, Any]]:
    return {
        p.value: {"product_id": lst.product_id, "price": lst.price, "currency": lst.currency}
        for p, lst in listings.items()
    }


async def lock_catalog(session: AsyncSession) -> None:
    """Serialise catalog writers until the transaction ends (bundle checks span packs)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATALOG_LOCK_KEY})


async def write_wanted_packs(
    session: AsyncSession,
    wanted: Mapping[str, PackSpec],
    *,
    changes_topic: str,
    catalog_name: str | None = None,
    dropped_by_catalog: bool = False,
) -> list[PackChange]:
    """Put ``wanted`` in place of the stored packs of the same slugs; the changes written.

    With ``catalog_name``, the packs become that catalog file's; with ``dropped_by_catalog`` too,
    that file's other packs are deactivated (never deleted). Raises ``CatalogError`` when the
    resulting catalog would be invalid; problems that were already stored do not block.
    """
    await lock_catalog(session)
    stored = await load_stored_catalog(session)
    before = {slug: pack.spec() for slug, pack in stored.items()}
    after = dict(before)
    after.update(wanted)
    if catalog_name is not None and dropped_by_catalog:
        for slug, pack in stored.items():
            if pack.catalog_name == catalog_name and slug not in wanted and pack.row.is_active:
                after[slug] = before[slug].model_copy(update={"active": False})
    _, known_issues = resolve_catalog(before)
    resolved, issues = resolve_catalog(after)
    new_issues = [issue for issue in issues if issue not in set(known_issues)]
    new_issues += stored_conflicts(stored, wanted)
    if new_issues:
        raise CatalogError(new_issues)
    memberships = dict.fromkeys(wanted, catalog_name) if catalog_name is not None else {}
    changes: list[PackChange] = []
    for slug in children_first(resolved):
        resolved_pack = resolved[slug]
        change = await _write_pack(session, stored.get(slug), resolved_pack, memberships.get(slug))
        if change is not None:
            changes.append(change)
            session.add(_change_event(changes_topic, change, resolved_pack))
    return changes


def children_first(packs: Mapping[str, ResolvedPack]) -> list[str]:
    """Slugs ordered so that a bundle comes after its children (its items reference them)."""
    ordered: dict[str, None] = {}

    def visit(slug: str) -> None:
        if slug in ordered or slug not in packs:
            return
        for child in packs[slug].spec.bundle:
            visit(child)
        ordered[slug] = None

    for slug in packs:
        visit(slug)
    return list(ordered)


def stored_conflicts(stored: Mapping[str, StoredPack], wanted: Mapping[str, PackSpec]) -> list[CatalogIssue]:
    """Changes the stored catalog forbids: provider listings and bundle-ness are permanent."""
    issues: list[CatalogIssue] = []
    for slug, spec in wanted.items():
        pack = stored.get(slug)
        if pack is None:
            continue
        for provider, listing in pack.listings.items():
            if provider not in spec.providers:
                message = (
                    f"listed at {provider.value} as {listing.product_id!r}: a listing cannot be removed "
                    f"(its webhooks must keep resolving); switch it off with provider.{provider.value}: false"
                )
                issues.append(CatalogIssue(("providers",), message, slug))
            elif spec.providers[provider].product_id != listing.product_id:
                message = f"was {listing.product_id!r}: a provider product id cannot change"
                issues.append(CatalogIssue(("providers", provider.value, "product_id"), message, slug))
        if pack.is_bundle != spec.is_bundle:
            message = "a pack cannot turn into a bundle or back; create a new pack"
            issues.append(CatalogIssue(("bundle",), message, slug))
    return issues


async def _write_pack(
    session: AsyncSession, stored: StoredPack | None, pack: ResolvedPack, catalog_name: str | None
) -> PackChange | None:
    want = resolved_values(pack)
    if stored is None:
        pack_id = pack_id_for(pack.slug)
        session.add(BillingCatalog(id=pack_id, slug=pack.slug, **want.columns))
        await session.flush()
        await _write_listings(session, pack_id, want, None)
        await _write_bundle(session, pack_id, want, None)
        await _write_membership(session, pack_id, catalog_name, None)
        return PackChange(pack.slug, ChangeKind.CREATED, sorted(want.columns))
    have = stored_values(stored)
    fields = want.differences(have)
    await _write_membership(session, stored.id, catalog_name, stored.catalog_name)
    if not fields:
        return None
    changed_columns = {name: want.columns[name] for name in fields if name in want.columns}
    await session.execute(
        update(BillingCatalog)
        .where(BillingCatalog.id == stored.id)
        .values(**changed_columns, updated_at=datetime.now(UTC))
    )
    await _write_listings(session, stored.id, want, have)
    await _write_bundle(session, stored.id, want, have)
    was_active, is_active = have.columns["is_active"], want.columns["is_active"]
    kind = ChangeKind.UPDATED
    if was_active and not is_active:
        kind = ChangeKind.DEACTIVATED
    elif is_active and not was_active:
        kind = ChangeKind.REACTIVATED
    return PackChange(pack.slug, kind, fields)


async def _write_listings(
    session: AsyncSession, pack_id: uuid.UUID, want: PackValues, have: PackValues | None
) -> None:
    for provider, listing in want.listings.items():
        if have is not None and have.listings.get(provider) == listing:
            continue
        if have is not None and provider in have.listings:
            await session.execute(
                update(BillingCatalogProvider)
                .where(
                    BillingCatalogProvider.catalog_id == pack_id,
                    BillingCatalogProvider.provider == provider,
                    BillingCatalogProvider.provider_product_id == listing["product_id"],
                )
                .values(price=listing["price"], currency=listing["currency"])
            )
            continue
        session.add(
            BillingCatalogProvider(
                id=uuid.uuid4(),
                catalog_id=pack_id,
                provider=provider,
                provider_product_id=listing["product_id"],
                price=listing["price"],
                currency=listing["currency"],
                provider_ids={},
            )
        )


async def _write_bundle(
    session: AsyncSession, pack_id: uuid.UUID, want: PackValues, have: PackValues | None
) -> None:
    if want.bundle is None or (have is not None and have.bundle == want.bundle):
        return
    pricing = insert(BundlePricing).values(
        catalog_id=pack_id,
        own_price=want.bundle["own_price"],
        own_provider_prices=want.bundle["own_provider_prices"],
    )
    await session.execute(
        pricing.on_conflict_do_update(
            index_elements=[BundlePricing.catalog_id],
            set_={
                "own_price": pricing.excluded.own_price,
                "own_provider_prices": pricing.excluded.own_provider_prices,
            },
        )
    )
    if have is not None and have.bundle is not None and have.bundle["children"] == want.bundle["children"]:
        return
    await session.execute(delete(BundleItem).where(BundleItem.bundle_id == pack_id))
    for position, child in enumerate(want.bundle["children"]):
        child_id = await _pack_id_by_slug(session, child)
        session.add(BundleItem(bundle_id=pack_id, child_id=child_id, position=position))
    await session.flush()


async def _pack_id_by_slug(session: AsyncSession, slug: str) -> uuid.UUID:
    await session.flush()  # children created in this transaction must be visible
    return (await session.execute(select(BillingCatalog.id).where(BillingCatalog.slug == slug))).scalar_one()


async def _write_membership(
    session: AsyncSession, pack_id: uuid.UUID, catalog_name: str | None, current: str | None
) -> None:
    if catalog_name is None or catalog_name == current:
        return
    membership = insert(CatalogFileMembership).values(catalog_id=pack_id, catalog_name=catalog_name)
    await session.execute(
        membership.on_conflict_do_update(
            index_elements=[CatalogFileMembership.catalog_id],
            set_={"catalog_name": membership.excluded.catalog_name},
        )
    )


def _change_event(topic: str, change: PackChange, pack: ResolvedPack) -> Outbox:
    outbox_id = uuid.uuid4()
    event = CloudEvent(
        id=str(outbox_id),
        source=CATALOG_EVENT_SOURCE,
        type=f"catalog.pack.{change.kind.value}",
        subject=change.slug,
        time=datetime.now(UTC),
        data={
            "slug": change.slug,
            "change": change.kind.value,
            "fields": change.fields,
            "active": pack.spec.active,
        },
    )
    return Outbox(
        id=outbox_id,
        topic=topic,
        key=change.slug,
        event_type=event.type,
        payload=event.model_dump(mode="json"),
    )
