"""The seed's shapes as models: today's request names still parse, both spellings are written."""

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.domain.checkout import CheckoutInput
from shared.domain.entitlements import EntitlementStatus, EntitlementView


def test_todays_pack_slug_alone_names_the_pack() -> None:
    checkout = CheckoutInput.model_validate({"userId": "u", "packSlug": "style", "provider": "lightning"})
    assert (checkout.pack_id, checkout.pack_slug) == ("style", "style")


def test_pack_slug_that_differs_from_a_slug_pack_id_is_refused_at_pack_slug() -> None:
    with pytest.raises(ValidationError) as refused:
        CheckoutInput.model_validate(
            {"userId": "u", "packId": "style", "packSlug": "tryon", "provider": "revenuecat"}
        )
    assert [error["loc"] for error in refused.value.errors()] == [("packSlug",)]


def test_pack_slug_beside_an_id_is_left_for_the_catalog_to_compare() -> None:
    pack_id = str(uuid.uuid4())
    checkout = CheckoutInput.model_validate(
        {"userId": "u", "packId": pack_id, "packSlug": "style", "provider": "revenuecat"}
    )
    assert (checkout.pack_id, checkout.pack_slug) == (pack_id, "style")


def test_entitlement_view_writes_the_seeds_names_and_todays() -> None:
    activated = datetime(2026, 11, 24, 6, tzinfo=UTC)
    view = EntitlementView(
        entitlement_id=uuid.uuid4(),
        user_id="alice",
        pack_id=uuid.uuid4(),
        pack_slug="style",
        status=EntitlementStatus.ACTIVE,
        provider="revenuecat",
        reference="tx-1",
        activation_date=activated,
        expiration_date=None,
    ).model_dump(mode="json")
    seed = ("userId", "packId", "provider", "reference", "activationDate", "expirationDate")
    today = ("user_id", "pack_id", "source_provider", "purchase_reference", "activated_at", "expires_at")
    assert [view[name] for name in seed] == [view[name] for name in today]
    assert view["activated_at"] == "2026-11-24T06:00:00+00:00"  # isoformat, as always written
