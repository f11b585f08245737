"""The RevenueCat normalizer: what each event type means and whom it makes us re-read (pure, no I/O)."""

import pytest

from shared.connectors.revenuecat.events import RevenueCatWebhook
from shared.connectors.revenuecat.normalize import (
    EVENT_RULES,
    Claim,
    Handling,
    UnattributableEventError,
    claim_of,
    plan_confirmation,
    rule_for,
)
from tests.infra.revenuecat import revenuecat_event

# providers.md §1.3, the current event table plus the legacy SUBSCRIBER_ALIAS.
DOCUMENTED_TYPES = {
    "TEST",
    "INITIAL_PURCHASE",
    "RENEWAL",
    "CANCELLATION",
    "UNCANCELLATION",
    "NON_RENEWING_PURCHASE",
    "SUBSCRIPTION_PAUSED",
    "EXPIRATION",
    "BILLING_ISSUE",
    "PRODUCT_CHANGE",
    "TRANSFER",
    "SUBSCRIPTION_EXTENDED",
    "TEMPORARY_ENTITLEMENT_GRANT",
    "REFUND_REVERSED",
    "INVOICE_ISSUANCE",
    "VIRTUAL_CURRENCY_TRANSACTION",
    "SUBSCRIBER_ALIAS",
}


def _event(event_type: str, **kw: object) -> RevenueCatWebhook:
    kw.setdefault("app_user_id", "rc_u1")
    return RevenueCatWebhook.model_validate(
        revenuecat_event(event_type, product_id="com.hto.weekly", **kw)  # type: ignore[arg-type]
    )


def test_every_documented_event_type_has_a_rule() -> None:
    assert set(EVENT_RULES) == DOCUMENTED_TYPES


@pytest.mark.parametrize(
    ("event_type", "claim"),
    [
        ("INITIAL_PURCHASE", Claim.GRANTS),
        ("RENEWAL", Claim.GRANTS),
        ("NON_RENEWING_PURCHASE", Claim.GRANTS),
        ("SUBSCRIPTION_EXTENDED", Claim.GRANTS),
        ("TEMPORARY_ENTITLEMENT_GRANT", Claim.GRANTS),
        ("REFUND_REVERSED", Claim.GRANTS),
        ("CANCELLATION", Claim.KEEPS),
        ("UNCANCELLATION", Claim.KEEPS),
        ("SUBSCRIPTION_PAUSED", Claim.KEEPS),
        ("BILLING_ISSUE", Claim.KEEPS),
        ("PRODUCT_CHANGE", Claim.KEEPS),
        ("EXPIRATION", Claim.ENDS),
        ("TRANSFER", Claim.MOVES),
    ],
)
def test_lifecycle_types_are_confirmed_against_the_subscribers_api(event_type: str, claim: Claim) -> None:
    event = _event(event_type).event
    assert rule_for(event).handling is Handling.CONFIRM
    assert claim_of(event) is claim


def test_refund_cancellation_claims_a_revoke() -> None:
    assert claim_of(_event("CANCELLATION", cancel_reason="CUSTOMER_SUPPORT").event) is Claim.REVOKES


@pytest.mark.parametrize(
    "event_type", ["TEST", "INVOICE_ISSUANCE", "VIRTUAL_CURRENCY_TRANSACTION", "BRAND_NEW"]
)
def test_test_record_only_and_unknown_types_change_nothing(event_type: str) -> None:
    event = _event(event_type).event
    assert rule_for(event).handling is Handling.RECORD_ONLY
    assert claim_of(event) is Claim.NOTHING


def test_subject_is_read_by_our_app_user_id_and_products_are_named() -> None:
    event = _event("PRODUCT_CHANGE", new_product_id="com.hto.yearly").event
    plan = plan_confirmation(event)
    assert (plan.subject, plan.read_app_user_id, plan.transfer_source) == ("u1", "rc_u1", None)
    assert plan.named_products == {"com.hto.weekly", "com.hto.yearly"}


@pytest.mark.parametrize(
    ("app_user_id", "original_app_user_id", "aliases"),
    [
        ("rc_u7", "$RCAnonymousID:a", ["$RCAnonymousID:a"]),
        ("$RCAnonymousID:a", "rc_u7", ["$RCAnonymousID:a"]),
        ("$RCAnonymousID:a", "$RCAnonymousID:a", ["$RCAnonymousID:a", "rc_u7"]),
    ],
    ids=["app-user-id", "original-app-user-id", "alias"],
)
def test_user_is_matched_by_app_user_id_original_id_or_alias(
    app_user_id: str, original_app_user_id: str, aliases: list[str]
) -> None:
    event = _event(
        "RENEWAL", app_user_id=app_user_id, original_app_user_id=original_app_user_id, aliases=aliases
    ).event
    assert plan_confirmation(event).subject == "u7"


def test_event_naming_no_user_of_ours_is_rejected() -> None:
    event = _event(
        "INITIAL_PURCHASE", app_user_id="$RCAnonymousID:abc", original_app_user_id=None, aliases=[]
    )
    with pytest.raises(UnattributableEventError):
        plan_confirmation(event.event)


def test_transfer_reads_the_destination_and_revisits_the_source() -> None:
    event = _event(
        "TRANSFER",
        app_user_id=None,
        transferred_from=["$RCAnonymousID:x", "rc_old"],
        transferred_to=["rc_new"],
    ).event
    plan = plan_confirmation(event)
    assert (plan.subject, plan.read_app_user_id, plan.transfer_source) == ("new", "rc_new", "old")


def test_transfer_to_someone_else_still_revisits_our_source() -> None:
    event = _event(
        "TRANSFER", app_user_id=None, transferred_from=["rc_old"], transferred_to=["$RCAnonymousID:y"]
    ).event
    plan = plan_confirmation(event)
    assert (plan.subject, plan.read_app_user_id, plan.transfer_source) == (None, "$RCAnonymousID:y", "old")


def test_sample_initial_purchase_parses_with_exact_price() -> None:
    webhook = _event("INITIAL_PURCHASE")
    assert str(webhook.event.price) == "4.99"
