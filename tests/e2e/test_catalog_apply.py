"""``billing catalog apply``: idempotent, announces changes, never deletes a pack."""

from pathlib import Path
from typing import Any

from sqlalchemy import select

from shared.db.catalog_models import BundleItem, BundlePricing
from shared.db.models import BillingCatalog, BillingCatalogProvider, Outbox
from tests.conftest import Stack
from tests.infra.catalog import run_billing_cli, unique_suffix, write_catalog_file


def _catalog(suffix: str, *, with_bundle: bool = True) -> dict[str, Any]:
    packs: list[dict[str, Any]] = [
        {
            "slug": f"try-on-{suffix}",
            "display_name": "Virtual Try-On",
            "features": ["try_on.3d"],
            "price": 499,
            "billing_kind": "subscription",
            "billing_period": "P1M",
            "visuals": {"color": "#7C3AED", "icon": "shirt"},
            "providers": {
                "revenuecat": {"product_id": f"rc.tryon.{suffix}", "price": 499, "currency": "USD"}
            },
        },
        {
            "slug": f"planner-{suffix}",
            "display_name": "AR Room Planner",
            "features": ["room.ar_placement"],
            "price": 799,
            "billing_kind": "subscription",
            "billing_period": "P1M",
            "providers": {
                "revenuecat": {"product_id": f"rc.planner.{suffix}", "price": 799, "currency": "USD"}
            },
        },
    ]
    if with_bundle:
        packs.append(
            {
                "slug": f"duo-{suffix}",
                "display_name": "Duo",
                "bundle": [f"try-on-{suffix}", f"planner-{suffix}"],
                "billing_kind": "subscription",
                "billing_period": "P1M",
                "providers": {"revenuecat": {"product_id": f"rc.duo.{suffix}"}},
            }
        )
    return {"catalog": f"test-{suffix}", "packs": packs}


async def _snapshot(stack: Stack, suffix: str) -> dict[str, Any]:
    """Every stored row of the test's packs, timestamps included, and their change events."""
    async with stack.sessions() as session:
        packs = (
            (await session.execute(select(BillingCatalog).where(BillingCatalog.slug.like(f"%-{suffix}"))))
            .scalars()
            .all()
        )
        ids = [p.id for p in packs]
        listings = (
            await session.execute(
                select(BillingCatalogProvider).where(BillingCatalogProvider.catalog_id.in_(ids))
            )
        ).scalars()
        items = (await session.execute(select(BundleItem).where(BundleItem.bundle_id.in_(ids)))).scalars()
        pricing = (
            await session.execute(select(BundlePricing).where(BundlePricing.catalog_id.in_(ids)))
        ).scalars()
        events = (await session.execute(select(Outbox.id).where(Outbox.key.like(f"%-{suffix}")))).scalars()
        return {
            "packs": sorted((p.slug, p.default_price, p.is_active, p.updated_at, p.features) for p in packs),
            "listings": sorted((lst.provider_product_id, lst.price, lst.currency) for lst in listings),
            "items": sorted((i.bundle_id, i.child_id, i.position) for i in items),
            "pricing": sorted((p.catalog_id, p.own_price) for p in pricing),
            "events": sorted(events),
        }


async def test_applying_the_same_file_twice_changes_nothing(stack: Stack, tmp_path: Path) -> None:
    suffix = unique_suffix()
    path = write_catalog_file(tmp_path, _catalog(suffix))
    first = run_billing_cli(stack, "catalog", "apply", str(path))
    assert first.returncode == 0, first.stderr
    after_first = await _snapshot(stack, suffix)

    second = run_billing_cli(stack, "catalog", "apply", str(path))
    assert second.returncode == 0, second.stderr
    assert "0 changed, 3 unchanged" in second.stdout
    assert await _snapshot(stack, suffix) == after_first
    assert len(after_first["events"]) == 3  # one creation each, none for the second apply


async def test_bundle_without_price_is_stored_at_its_childrens_sum(stack: Stack, tmp_path: Path) -> None:
    suffix = unique_suffix()
    result = run_billing_cli(stack, "catalog", "apply", str(write_catalog_file(tmp_path, _catalog(suffix))))
    assert result.returncode == 0, result.stderr
    snapshot = await _snapshot(stack, suffix)
    assert (f"duo-{suffix}", 1298, True) in [p[:3] for p in snapshot["packs"]]
    assert (f"rc.duo.{suffix}", 1298, "USD") in snapshot["listings"]


async def test_pack_dropped_from_the_file_becomes_inactive_not_deleted(stack: Stack, tmp_path: Path) -> None:
    suffix = unique_suffix()
    assert (
        run_billing_cli(
            stack, "catalog", "apply", str(write_catalog_file(tmp_path, _catalog(suffix)))
        ).returncode
        == 0
    )

    without_bundle = write_catalog_file(tmp_path, _catalog(suffix, with_bundle=False))
    result = run_billing_cli(stack, "catalog", "apply", str(without_bundle))
    assert result.returncode == 0, result.stderr
    assert f"deactivated  duo-{suffix}" in result.stdout
    packs = {p[0]: p[2] for p in (await _snapshot(stack, suffix))["packs"]}
    assert packs == {f"try-on-{suffix}": True, f"planner-{suffix}": True, f"duo-{suffix}": False}


async def test_apply_announces_each_change_on_the_catalog_topic(stack: Stack, tmp_path: Path) -> None:
    suffix = unique_suffix()
    assert (
        run_billing_cli(
            stack, "catalog", "apply", str(write_catalog_file(tmp_path, _catalog(suffix)))
        ).returncode
        == 0
    )
    event = await stack.published.wait_for(
        stack.topics.catalog_changes, lambda r: r.key == f"duo-{suffix}".encode()
    )
    assert event.json()["type"] == "catalog.pack.created"
    assert event.json()["data"]["slug"] == f"duo-{suffix}"


async def test_bad_catalog_file_is_rejected_with_field_and_line(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("packs:\n  - slug: broken\n    display_name: Broken\n    price: -5\n")
    result = run_billing_cli(stack, "catalog", "apply", str(path))
    assert result.returncode == 1
    assert "line 4: packs[0].price" in result.stderr
    async with stack.sessions() as session:
        assert (
            await session.execute(select(BillingCatalog).where(BillingCatalog.slug == "broken"))
        ).first() is None


async def test_removing_a_provider_listing_is_rejected_with_its_line(stack: Stack, tmp_path: Path) -> None:
    suffix = unique_suffix()
    document = _catalog(suffix, with_bundle=False)
    assert (
        run_billing_cli(stack, "catalog", "apply", str(write_catalog_file(tmp_path, document))).returncode
        == 0
    )

    del document["packs"][1]["providers"]
    result = run_billing_cli(stack, "catalog", "apply", str(write_catalog_file(tmp_path, document)))
    assert result.returncode == 1
    assert "packs[1].providers" in result.stderr and "cannot be removed" in result.stderr
