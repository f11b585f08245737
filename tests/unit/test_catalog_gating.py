"""Where a pack is sold: provider and market gating by feature flags."""

import pytest

from shared.catalog.gating import available_at, enabled_features, flag_key_problem
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
