"""Writes catalog changes: only what differs from the stored catalog, each announced on the outbox.

Every write (file apply, admin API) goes the same way: lock the catalog, read it whole, put the
wanted packs in place, check the result as one catalog, write the difference, and record one
``catalog.pack.*`` event per changed pack for ``billing.catalog.changes`` in the same transaction.
The rows of one pack are written by ``catalog_rows.py`` (compared as ``catalog_values.py`` builds
them); what changed and its event are ``catalog_changes.py``.
"""

import uuid
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog.errors import CatalogError, CatalogIssue
from shared.catalog.file import pack_id_for
from shared.catalog.model import PackSpec
from shared.catalog.resolve import ResolvedPack, resolve_catalog
from shared.db.catalog_changes import PackChange, change_event
from shared.db.catalog_rows import write_pack
from shared.db.catalog_state import StoredPack, load_stored_catalog

CATALOG_LOCK_KEY = 0x6361_7461  # "cata": one catalog writer at a time


async def lock_catalog(session: AsyncSession) -> None:
    """Serialise catalog writers until the transaction ends (bundle checks span packs)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATALOG_LOCK_KEY})


async def write_wanted_packs(
    session: AsyncSession,
    wanted: Mapping[str, PackSpec],
    *,
    changes_topic: str | None,
    catalog_name: str | None = None,
    dropped_by_catalog: bool = False,
    new_pack_ids: Mapping[str, uuid.UUID] | None = None,
) -> list[PackChange]:
    """Put ``wanted`` in place of the stored packs of the same slugs; the changes written.

    With ``catalog_name``, the packs become that catalog file's; with ``dropped_by_catalog`` too,
    that file's other packs are deactivated (never deleted). Raises ``CatalogError`` when the
    resulting catalog would be invalid; problems that were already stored do not block.
    Each change is announced on ``changes_topic``; with None it is not (the test and bench seeds).
    A pack created gets its id from ``new_pack_ids`` (seeds name theirs), else from its slug.
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
        new_id = (new_pack_ids or {}).get(slug) or pack_id_for(slug)
        change = await write_pack(session, stored.get(slug), resolved_pack, memberships.get(slug), new_id)
        if change is None:
            continue
        changes.append(change)
        if changes_topic is not None:
            session.add(change_event(changes_topic, change, resolved_pack))
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
