"""The RevenueCat normalizer: which updates an event implies (pure, no I/O)."""

from datetime import UTC, datetime

import pytest

from shared.connectors.revenuecat.events import RevenueCatWebhook
from shared.connectors.revenuecat.normalize import UnattributableEventError, normalize_event
from shared.domain.entitlements import EntitlementStatus
from shared.domain.provider import Provider
from tests.infra.revenuecat import revenuecat_event


def _event(event_type: str, **kw: object) -> RevenueCatWebhook:
    kw.setdefault("app_user_id", "rc_u1")
    return RevenueCatWebhook.model_validate(
        revenuecat_event(event_type, product_id="com.hto.weekly", **kw)  # type: ignore[arg-type]
    )


def test_initial_purchase_activates_until_expiration() -> None:
    webhook = _event(
        "INITIAL_PURCHASE",
        event_timestamp_ms=1_700_000_000_500,
        purchased_at_ms=1_700_000_000_000,
        expiration_at_ms=1_700_604_800_000,
        original_transaction_id="otx-1",
    )
    [update] = normalize_event(webhook.event)
    assert update.provider is Provider.REVENUECAT
    assert update.user_id == "u1"
    assert update.update_id == webhook.event.id
    assert update.status is EntitlementStatus.ACTIVE
    assert update.purchase_reference == "otx-1"
    assert update.provider_product_id == "com.hto.weekly"
    assert update.activated_at == datetime.fromtimestamp(1_700_000_000, UTC)
    assert update.expires_at == datetime.fromtimestamp(1_700_604_800, UTC)
    assert update.occurred_at == datetime.fromtimestamp(1_700_000_000.5, UTC)


def test_user_is_found_through_aliases_when_app_user_id_is_anonymous() -> None:
    webhook = _event(
        "INITIAL_PURCHASE",
        app_user_id="$RCAnonymousID:abc",
        original_app_user_id="$RCAnonymousID:abc",
        aliases=["$RCAnonymousID:abc", "rc_u7"],
    )
    [update] = normalize_event(webhook.event)
    assert update.user_id == "u7"


def test_event_naming_no_user_of_ours_is_rejected() -> None:
    webhook = _event("INITIAL_PURCHASE", app_user_id="$RCAnonymousID:abc", aliases=[])
    with pytest.raises(UnattributableEventError):
        normalize_event(webhook.event)


def test_sample_initial_purchase_parses_with_exact_price() -> None:
    webhook = _event("INITIAL_PURCHASE")
    assert str(webhook.event.price) == "4.99"
