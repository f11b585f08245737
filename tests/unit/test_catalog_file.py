"""The catalog file: what is accepted, and every rejection naming the field and its line."""

from pathlib import Path

import pytest

from shared.catalog.errors import CatalogError
from shared.catalog.file import load_catalog_file, parse_catalog
from shared.catalog.resolve import resolve_catalog

EXAMPLE = Path(__file__).resolve().parents[2] / "catalog" / "example.yaml"


def _rejection(text: str) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "test.yaml")
    return caught.value


def _only(error: CatalogError) -> tuple[str, int | None, str]:
    assert len(error.issues) == 1, error.issues
    issue = error.issues[0]
    return issue.field, issue.line, issue.message


def test_example_catalog_has_five_packs_and_a_bundle() -> None:
    catalog = load_catalog_file(EXAMPLE)
    plain = [p for p in catalog.packs if not p.is_bundle]
    bundles = [p for p in catalog.packs if p.is_bundle]
    assert len(plain) >= 5
    assert bundles


def test_example_keeps_the_product_ids_readme_and_tests_use() -> None:
    catalog = load_catalog_file(EXAMPLE)
    tryon = next(p for p in catalog.packs if p.slug == "virtual-try-on")
    assert tryon.providers["revenuecat"].product_id == "com.hometryon.tryon.monthly"  # type: ignore[index]


def test_negative_price_names_field_and_line() -> None:
    text = """packs:
  - slug: try-on
    display_name: Try-On
    price: 100
    providers:
      revenuecat: {product_id: p1, price: -1, currency: USD}
"""
    field, line, message = _only(_rejection(text))
    assert (field, line) == ("packs[0].providers.revenuecat.price", 6)
    assert "greater than or equal to 0" in message


def test_unknown_field_names_field_and_line() -> None:
    text = """packs:
  - slug: try-on
    display_name: Try-On
    price: 100
    colour: red
"""
    assert _only(_rejection(text))[:2] == ("packs[0].colour", 5)


def test_missing_display_name_points_at_the_pack() -> None:
    text = """packs:
  - slug: first
    display_name: First
    price: 1
  - slug: second
    price: 1
"""
    assert _only(_rejection(text))[:2] == ("packs[1].display_name", 5)


def test_yaml_syntax_error_names_its_line() -> None:
    text = "packs:\n  - slug: a\n    display_name: [unclosed\n    price: 1\n"
    error = _rejection(text)
    assert error.issues[0].line is not None
    assert "not valid YAML" in error.issues[0].message


def test_duplicate_key_is_rejected_not_silently_overwritten() -> None:
    text = """packs:
  - slug: try-on
    display_name: Try-On
    price: 100
    price: 200
"""
    assert _only(_rejection(text))[:3] == ("packs[0].price", 5, "duplicate key")


def test_duplicate_slug_names_the_second_pack() -> None:
    text = """packs:
  - {slug: try-on, display_name: A, price: 1}
  - {slug: try-on, display_name: B, price: 2}
"""
    assert _only(_rejection(text))[:2] == ("packs[1].slug", 3)


def test_subscription_without_period_names_billing_period() -> None:
    text = """packs:
  - slug: try-on
    display_name: Try-On
    price: 100
    billing_kind: subscription
"""
    field, _, message = _only(_rejection(text))
    assert field == "packs[0].billing_period"
    assert "billing period" in message


def test_unknown_gating_provider_names_the_flag_and_line() -> None:
    text = """packs:
  - slug: try-on
    display_name: Try-On
    price: 100
    feature_flags:
      provider.stripe: false
"""
    field, line, message = _only(_rejection(text))
    assert (field, line) == ('packs[0].feature_flags["provider.stripe"]', 6)
    assert "unknown provider" in message


def test_rollout_out_of_range_names_the_flag_and_line() -> None:
    text = """packs:
  - slug: try-on
    display_name: Try-On
    price: 100
    feature_flags:
      rollout.lightning: 150
"""
    field, line, message = _only(_rejection(text))
    assert (field, line) == ('packs[0].feature_flags["rollout.lightning"]', 6)
    assert "integer percentage from 0 to 100" in message


def test_rollout_percentage_is_kept_as_an_integer() -> None:
    text = """packs:
  - {slug: try-on, display_name: Try-On, price: 100, feature_flags: {rollout.lightning: 25, beta: true}}
"""
    catalog, _ = parse_catalog(text)
    assert catalog.packs[0].feature_flags == {"rollout.lightning": 25, "beta": True}


def test_bundle_of_unknown_pack_names_the_child_and_line() -> None:
    text = """packs:
  - {slug: try-on, display_name: A, price: 1}
  - slug: duo
    display_name: Duo
    bundle: [try-on, nowhere]
"""
    field, line, message = _only(_rejection(text))
    assert (field, line) == ("packs[1].bundle[1]", 5)
    assert "'nowhere'" in message


def test_bundle_cycle_is_rejected() -> None:
    text = """packs:
  - {slug: plain, display_name: P, price: 1}
  - {slug: outer, display_name: O, bundle: [plain, inner]}
  - {slug: inner, display_name: I, bundle: [plain, outer]}
"""
    field, _, message = _only(_rejection(text))
    assert field.endswith(".bundle")
    assert "cycle" in message and "outer" in message and "inner" in message


def test_active_bundle_with_inactive_child_is_rejected() -> None:
    text = """packs:
  - {slug: kept, display_name: K, price: 1}
  - {slug: retired, display_name: R, price: 1, active: false}
  - {slug: duo, display_name: D, bundle: [kept, retired]}
"""
    field, line, message = _only(_rejection(text))
    assert (field, line) == ("packs[2].bundle[1]", 4)
    assert "inactive" in message


def test_bundle_without_price_costs_its_children_together() -> None:
    text = """packs:
  - {slug: one, display_name: A, price: 150,
     providers: {revenuecat: {product_id: a, price: 150, currency: USD}}}
  - {slug: two, display_name: B, price: 250,
     providers: {revenuecat: {product_id: b, price: 250, currency: USD}}}
  - {slug: duo, display_name: D, bundle: [one, two], providers: {revenuecat: {product_id: d}}}
"""
    catalog, _ = parse_catalog(text)
    resolved, issues = resolve_catalog({p.slug: p for p in catalog.packs})
    assert issues == []
    duo = resolved["duo"]
    assert (duo.price, duo.currency, duo.own_price) == (400, "USD", False)
    assert duo.listings["revenuecat"].price == 400  # type: ignore[index]


def test_bundle_with_own_price_keeps_both_prices() -> None:
    text = """packs:
  - {slug: one, display_name: A, price: 150}
  - {slug: two, display_name: B, price: 250}
  - {slug: duo, display_name: D, bundle: [one, two], price: 300}
"""
    catalog, _ = parse_catalog(text)
    resolved, _ = resolve_catalog({p.slug: p for p in catalog.packs})
    assert (resolved["duo"].price, resolved["duo"].children_price) == (300, 400)


def test_bundle_of_mixed_currencies_needs_its_own_price() -> None:
    text = """packs:
  - {slug: one, display_name: A, price: 150, currency: USD}
  - {slug: two, display_name: B, price: 250, currency: EUR}
  - {slug: duo, display_name: D, bundle: [one, two]}
"""
    field, _, message = _only(_rejection(text))
    assert field == "packs[2].price"
    assert "EUR, USD" in message


def test_bundle_sold_where_a_child_is_not_needs_a_provider_price() -> None:
    text = """packs:
  - {slug: one, display_name: A, price: 150, providers: {lightning: {product_id: a, price: 1, currency: USD}}}
  - {slug: two, display_name: B, price: 250}
  - {slug: duo, display_name: D, bundle: [one, two], providers: {lightning: {product_id: d}}}
"""
    field, _, message = _only(_rejection(text))
    assert field == "packs[2].providers.lightning.price"
    assert "'two'" in message


def test_bundle_features_are_its_childrens() -> None:
    text = """packs:
  - {slug: one, display_name: A, price: 1, features: [a.x]}
  - {slug: two, display_name: B, price: 1, features: [b.y, b.z], feature_flags: {b.z: false}}
  - {slug: duo, display_name: D, bundle: [one, two]}
"""
    catalog, _ = parse_catalog(text)
    resolved, _ = resolve_catalog({p.slug: p for p in catalog.packs})
    assert resolved["duo"].features == ["a.x", "b.y"]
    assert resolved["duo"].leaves == ["one", "two"]


def test_product_sold_as_two_packs_is_rejected() -> None:
    text = """packs:
  - {slug: one, display_name: A, price: 1,
     providers: {revenuecat: {product_id: same, price: 1, currency: USD}}}
  - {slug: two, display_name: B, price: 1,
     providers: {revenuecat: {product_id: same, price: 1, currency: USD}}}
"""
    field, _, message = _only(_rejection(text))
    assert field == "packs[1].providers.revenuecat.product_id"
    assert "'one'" in message
