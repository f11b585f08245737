"""Where a pack is sold: provider, market and rollout gating by feature flags (pure rules)."""

import pytest

from shared.catalog.gating import (
    Refusal,
    SaleDecision,
    available_at,
    enabled_features,
    flag_key_problem,
    flag_value_problem,
    sale_decision,
)
from shared.domain.provider import Provider

LN, RC = Provider.LIGHTNING, Provider.REVENUECAT


def test_pack_without_flags_is_available_everywhere() -> None:
    assert available_at({}, LN, "DE") and available_at({}, RC, None)


def test_provider_flag_hides_pack_at_that_provider_only() -> None:
    flags = {"provider.lightning": False}
    assert not available_at(flags, LN, "US")
    assert available_at(flags, RC, "US")


def test_market_flag_hides_pack_in_that_market() -> None:
    flags = {"market.DE": False}
    assert not available_at(flags, RC, "DE")
    assert available_at(flags, RC, "FR")
    assert available_at(flags, RC, None)  # without a market, only market.* applies


def test_provider_market_flag_beats_global_market_flag() -> None:
    flags = {"market.*": False, "provider.revenuecat.market.US": True}
    assert available_at(flags, RC, "US")
    assert not available_at(flags, LN, "US")
    assert not available_at(flags, RC, "FR")


def test_exact_market_beats_wildcard() -> None:
    flags = {"market.*": False, "market.CA": True}
    assert available_at(flags, LN, "CA")
    assert not available_at(flags, LN, None)


def test_provider_switched_off_stays_off_in_allowed_markets() -> None:
    flags = {"provider.lightning": False, "provider.lightning.market.US": True}
    assert not available_at(flags, LN, "US")


def test_plain_flag_switches_a_feature_off() -> None:
    assert enabled_features(["a", "b"], {"b": False, "a": True}) == ["a"]


@pytest.mark.parametrize(
    "key", ["provider.stripe", "market.de", "market.DEU", "provider.lightning.market", "Bad Flag"]
)
def test_malformed_flag_keys_are_explained(key: str) -> None:
    assert flag_key_problem(key) is not None


@pytest.mark.parametrize(
    "key", ["beta", "try_on.share", "provider.revenuecat", "market.*", "provider.lightning.market.DE"]
)
def test_wellformed_flag_keys_pass(key: str) -> None:
    assert flag_key_problem(key) is None


@pytest.mark.parametrize("key", ["market.XX", "provider.lightning.market.ZZ", "rollout.lightning.market.QQ"])
def test_market_codes_that_iso_3166_does_not_assign_are_refused(key: str) -> None:
    assert flag_key_problem(key) is not None


@pytest.mark.parametrize(
    "key", ["rollout.stripe", "rollout", "rollout.lightning.market.*", "rollout.lightning.market.de"]
)
def test_malformed_rollout_keys_are_explained(key: str) -> None:
    assert flag_key_problem(key) is not None


@pytest.mark.parametrize("key", ["rollout.lightning", "rollout.revenuecat.market.DE"])
def test_wellformed_rollout_keys_pass(key: str) -> None:
    assert flag_key_problem(key) is None


@pytest.mark.parametrize("value", [0, 25, 100])
def test_rollout_takes_an_integer_percentage(value: int) -> None:
    assert flag_value_problem("rollout.lightning", value) is None


@pytest.mark.parametrize("value", [-1, 101, 25.0, "25", True, None])
def test_rollout_refuses_anything_but_an_integer_from_0_to_100(value: object) -> None:
    assert flag_value_problem("rollout.lightning", value) is not None


def test_gate_flags_stay_booleans() -> None:
    assert flag_value_problem("market.DE", 0) is not None
    assert flag_value_problem("market.DE", False) is None


def test_sale_decision_names_the_flag_that_refused() -> None:
    assert sale_decision({"provider.lightning": False}, LN, "US", "u") == SaleDecision(
        Refusal.PROVIDER_OFF, "provider.lightning"
    )
    assert sale_decision({"market.DE": False}, RC, "DE", "u") == SaleDecision(Refusal.MARKET_OFF, "market.DE")
    flags = {"provider.lightning.market.DE": False}
    assert sale_decision(flags, LN, "DE", "u").flag == "provider.lightning.market.DE"
    assert sale_decision(flags, RC, "DE", "u").allowed


def test_gates_come_before_the_rollout() -> None:
    decision = sale_decision({"rollout.lightning": 100, "market.DE": False}, LN, "DE", "u")
    assert decision.refusal is Refusal.MARKET_OFF


def test_rollout_of_zero_admits_nobody_and_of_hundred_everybody() -> None:
    users = [f"user-{n}" for n in range(200)]
    assert not any(sale_decision({"rollout.lightning": 0}, LN, "US", u).allowed for u in users)
    assert all(sale_decision({"rollout.lightning": 100}, LN, "US", u).allowed for u in users)


def test_rollout_applies_at_its_provider_only() -> None:
    assert sale_decision({"rollout.lightning": 0}, RC, "US", "u").allowed
    assert sale_decision({"rollout.lightning": 0}, LN, "US", "u") == SaleDecision(
        Refusal.NOT_IN_ROLLOUT, "rollout.lightning"
    )


def test_market_rollout_beats_the_providers_rollout_in_that_market() -> None:
    flags = {"rollout.lightning": 0, "rollout.lightning.market.DE": 100}
    assert sale_decision(flags, LN, "DE", "u").allowed
    assert not sale_decision(flags, LN, "FR", "u").allowed
    assert not sale_decision(flags, LN, None, "u").allowed  # market unknown: the provider's rollout


def test_partial_rollout_admits_no_unnamed_user() -> None:
    assert not sale_decision({"rollout.lightning": 99}, LN, "US", None).allowed
    assert sale_decision({"rollout.lightning": 100}, LN, "US", None).allowed


def test_rollout_does_not_stop_the_provider_selling_the_pack() -> None:
    assert available_at({"rollout.lightning": 0}, LN, "US")  # catalog sync keeps the listing on sale
