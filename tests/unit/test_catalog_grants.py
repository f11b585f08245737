"""Which grant answers for a feature: only current ones, the longest-lasting first."""

from datetime import UTC, datetime, timedelta

from shared.catalog.grants import FeatureGrant, current_grants

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def test_expired_grant_does_not_count() -> None:
    grants = [FeatureGrant("a", "pack", None, NOW - timedelta(seconds=1))]
    assert current_grants(grants, NOW) == {}


def test_grant_for_good_beats_a_dated_one() -> None:
    dated = FeatureGrant("a", "monthly", None, NOW + timedelta(days=30))
    lifetime = FeatureGrant("a", "lifetime", "bundle", None)
    assert current_grants([dated, lifetime], NOW)["a"] == lifetime
    assert current_grants([lifetime, dated], NOW)["a"] == lifetime


def test_grant_round_trips_through_json() -> None:
    grant = FeatureGrant("a", "pack", "bundle", NOW)
    assert FeatureGrant.from_json(grant.to_json()) == grant
