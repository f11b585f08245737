"""A CustomerInfo snapshot becomes authoritative updates (pure, no I/O)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.connectors.revenuecat.customer_info import CustomerInfo
from shared.connectors.revenuecat.events import RevenueCatEvent
from shared.connectors.revenuecat.snapshot import updates_from_snapshot
from shared.domain.entitlements import EntitlementStatus

AT = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
PRODUCT = "com.hto.weekly"
EVENT = RevenueCatEvent(id="EVT-1", type="RENEWAL", event_timestamp_ms=0, app_user_id="rc_u1")


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _info(subscriptions: dict[str, Any] | None = None, **subscriber: Any) -> CustomerInfo:
    return CustomerInfo.model_validate(
        {
            "request_date_ms": int(AT.timestamp() * 1000),
            "subscriber": {"subscriptions": subscriptions or {}, **subscriber},
        }
    )


def _sub(expires: datetime | None, **fields: Any) -> dict[str, Any]:
    return {
        "expires_date": _iso(expires),
        "purchase_date": _iso(AT - timedelta(days=1)),
        "original_purchase_date": _iso(AT - timedelta(days=30)),
        **{k: _iso(v) if isinstance(v, datetime) else v for k, v in fields.items()},
    }


def _only(info: CustomerInfo, **kw: Any):  # type: ignore[no-untyped-def]
    [update] = updates_from_snapshot(info, event=EVENT, user_id="u1", known_products={PRODUCT}, **kw)
    return update


def test_future_expiry_is_active_until_then() -> None:
    update = _only(_info({PRODUCT: _sub(AT + timedelta(days=6))}))
    assert (update.status, update.expires_at, update.reason) == (
        EntitlementStatus.ACTIVE,
        AT + timedelta(days=6),
        None,
    )
    assert update.activated_at == AT - timedelta(days=30)


def test_past_expiry_is_expired() -> None:
    update = _only(_info({PRODUCT: _sub(AT - timedelta(seconds=1))}))
    assert (update.status, update.reason) == (EntitlementStatus.EXPIRED, "expired")


def test_grace_period_keeps_access_until_it_ends() -> None:
    grace_end = AT + timedelta(days=3)
    update = _only(_info({PRODUCT: _sub(AT - timedelta(hours=1), grace_period_expires_date=grace_end)}))
    assert (update.status, update.expires_at, update.reason) == (
        EntitlementStatus.ACTIVE,
        grace_end,
        "grace_period",
    )


def test_refunded_subscription_is_revoked() -> None:
    update = _only(_info({PRODUCT: _sub(AT - timedelta(hours=1), refunded_at=AT - timedelta(hours=1))}))
    assert (update.status, update.reason) == (EntitlementStatus.REVOKED, "refunded")


def test_paused_subscription_past_expiry_is_expired_as_paused() -> None:
    update = _only(_info({PRODUCT: _sub(AT - timedelta(hours=1), auto_resume_date=AT + timedelta(days=20))}))
    assert (update.status, update.reason) == (EntitlementStatus.EXPIRED, "paused")


def test_one_time_purchase_is_active_for_life() -> None:
    info = _info(non_subscriptions={PRODUCT: [{"id": "p1", "purchase_date": _iso(AT - timedelta(days=2))}]})
    update = _only(info)
    assert (update.status, update.expires_at, update.activated_at) == (
        EntitlementStatus.ACTIVE,
        None,
        AT - timedelta(days=2),
    )


def test_product_seen_only_in_entitlements_uses_its_expiry() -> None:
    info = _info(
        entitlements={"pro": {"expires_date": _iso(AT + timedelta(days=1)), "product_identifier": PRODUCT}}
    )
    assert _only(info).status is EntitlementStatus.ACTIVE


def test_named_product_missing_from_the_snapshot_is_revoked_with_the_reason() -> None:
    update = _only(_info(), named_products={PRODUCT}, absent_reason="transferred to rc_u2")
    assert (update.status, update.reason) == (EntitlementStatus.REVOKED, "transferred to rc_u2")


def test_products_we_do_not_sell_are_left_out_unless_the_event_names_them() -> None:
    info = _info({PRODUCT: _sub(AT + timedelta(days=1)), "other.app.product": _sub(AT + timedelta(days=1))})
    kept = updates_from_snapshot(info, event=EVENT, user_id="u1", known_products={PRODUCT})
    assert [u.provider_product_id for u in kept] == [PRODUCT]
    named = updates_from_snapshot(
        info, event=EVENT, user_id="u1", known_products={PRODUCT}, named_products={"other.app.product"}
    )
    assert [u.provider_product_id for u in named] == [PRODUCT, "other.app.product"]


def test_updates_are_ordered_by_the_snapshot_time_and_keyed_by_event_user_and_product() -> None:
    update = _only(_info({PRODUCT: _sub(AT + timedelta(days=1))}))
    assert update.occurred_at == AT
    assert update.update_id == f"EVT-1:u1:{PRODUCT}"
    assert update.purchase_reference == PRODUCT
