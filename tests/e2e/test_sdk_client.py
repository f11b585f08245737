"""The SDK's clients against the live gateway: every method once (async), the sync client too, and
the gateway's errors as ``BillingApiError`` with their machine-readable code."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from hometryon_billing import (
    AsyncBillingClient,
    BillingApiError,
    BillingClient,
    CheckoutInput,
    RevokeByReference,
)

from shared.domain.entitlements import EntitlementStatus
from shared.domain.packs import MicroSaasPack
from tests.conftest import Stack, revenuecat_product_of
from tests.infra.catalog import unique_suffix
from tests.infra.catalog_entitlements import apply_and_wait, entitlement_update

ACTIVE = EntitlementStatus.ACTIVE


@pytest.fixture
async def billing(stack: Stack, api_key: str) -> AsyncIterator[AsyncBillingClient]:
    async with AsyncBillingClient(stack.gateway_url, api_key=api_key, timeout_s=30) as client:
        yield client


async def _owned(stack: Stack, user_id: str, pack: MicroSaasPack, reference: str = "tx-sdk") -> None:
    await apply_and_wait(stack, entitlement_update(user_id, revenuecat_product_of(pack), reference, ACTIVE))


async def test_packs_are_listed_and_read_in_the_seeds_shape(
    billing: AsyncBillingClient, subscription_pack: MicroSaasPack
) -> None:
    listed = {p.slug: p for p in await billing.list_packs(provider="revenuecat")}
    pack = listed[subscription_pack.slug]
    assert (pack.id, pack.price, pack.currency) == (subscription_pack.id, 499, "USD")
    assert pack.provider_skus["revenuecat"] == revenuecat_product_of(subscription_pack)
    assert (await billing.get_pack(str(subscription_pack.id))).slug == subscription_pack.slug


async def test_checkout_answers_a_session_and_the_same_key_the_same_session(
    billing: AsyncBillingClient, subscription_pack: MicroSaasPack, user_id: str
) -> None:
    wanted = CheckoutInput(
        user_id=user_id,
        pack_id=str(subscription_pack.id),
        provider="revenuecat",
        metadata={"campaign": "sdk"},
    )
    key = uuid.uuid4().hex
    session = await billing.checkout(wanted, idempotency_key=key)
    assert session.provider == "revenuecat"
    assert session.url
    assert (await billing.checkout(wanted, idempotency_key=key)).session_id == session.session_id


async def test_entitlements_features_and_history_of_an_owner(
    stack: Stack, billing: AsyncBillingClient, subscription_pack: MicroSaasPack, user_id: str
) -> None:
    before = datetime.now(UTC)
    await _owned(stack, user_id, subscription_pack)
    answer = await billing.entitlements(user_id)
    [entitlement] = answer.entitlements
    assert (entitlement.status, entitlement.pack_id, entitlement.reference) == (
        "active",
        subscription_pack.id,
        "tx-sdk",
    )
    assert "try_on.3d" in answer.features
    check = await billing.check_feature(user_id, "try_on.3d")
    assert check.allowed and check.granted_by is not None
    assert check.granted_by.pack_slug == subscription_pack.slug
    assert (await billing.entitlements(user_id, at=before)).entitlements == []
    assert not (await billing.check_feature(user_id, "try_on.3d", at=before)).allowed


async def test_revocations_by_id_and_by_reference_are_accepted(
    stack: Stack, billing: AsyncBillingClient, subscription_pack: MicroSaasPack, user_id: str
) -> None:
    await _owned(stack, user_id, subscription_pack, "tx-a")
    [held] = (await billing.entitlements(user_id)).entitlements
    accepted = await billing.revoke_entitlement(str(held.entitlement_id), "sdk test")
    assert (accepted.status, accepted.entitlement_id, accepted.user_id) == (
        "accepted",
        held.entitlement_id,
        user_id,
    )
    by_reference = RevokeByReference(
        user_id=user_id, provider="revenuecat", purchase_reference="tx-a", reason="sdk test"
    )
    assert (await billing.revoke_by_reference(by_reference)).status == "accepted"


async def test_admin_pack_life_cycle(billing: AsyncBillingClient) -> None:
    slug = f"sdk-{unique_suffix()}"
    spec = {"slug": slug, "display_name": "SDK Pack", "features": [f"{slug}.use"], "price": 300}
    assert (await billing.create_pack(spec)).features == [f"{slug}.use"]
    assert (await billing.update_pack(slug, spec | {"price": 400})).price == 400
    assert (await billing.deactivate_pack(slug)).active is False


async def test_user_token_reads_its_users_entitlements_only(
    stack: Stack, billing: AsyncBillingClient, user_id: str
) -> None:
    token = await billing.create_user_token(user_id, ttl_seconds=600)
    assert token.user_id == user_id
    async with AsyncBillingClient(stack.gateway_url, bearer_token=token.token) as as_user:
        assert (await as_user.entitlements(user_id)).user_id == user_id
        with pytest.raises(BillingApiError) as refused:
            await as_user.entitlements(f"{user_id}-other")
    assert refused.value.status in (403, 404)


async def test_export_and_erasure_of_a_user(
    stack: Stack, billing: AsyncBillingClient, subscription_pack: MicroSaasPack, user_id: str
) -> None:
    await _owned(stack, user_id, subscription_pack)
    assert (await billing.export_user(user_id))["user_id"] == user_id
    erased = await billing.erase_user(user_id)
    assert erased.status == "erased" and sum(erased.counts.values()) > 0


async def test_errors_carry_the_gateways_code_and_field(billing: AsyncBillingClient) -> None:
    cases = [
        (billing.get_pack(f"absent-{unique_suffix()}"), 404, "pack_not_found"),
        (billing.receipts(f"absent-{unique_suffix()}"), 404, "receipt_not_found"),
        (billing.lightning_refund(str(uuid.uuid4())), 404, "refund_not_found"),
        (billing.start_lightning_refund(f"absent-{unique_suffix()}"), 404, "purchase_not_found"),
        (billing.list_packs(market="not-a-country"), 400, "invalid_market"),
    ]
    for call, status, code in cases:
        with pytest.raises(BillingApiError) as error:
            await call
        assert (error.value.status, error.value.code) == (status, code)


async def test_readiness(billing: AsyncBillingClient) -> None:
    assert (await billing.readiness()).status in ("ready", "degraded")


async def test_the_sync_client_runs_the_same_calls(
    stack: Stack, api_key: str, subscription_pack: MicroSaasPack, user_id: str
) -> None:
    await _owned(stack, user_id, subscription_pack)

    def reads() -> tuple[str, bool, str]:
        with BillingClient(stack.gateway_url, api_key=api_key, timeout_s=30) as billing:
            pack = billing.get_pack(subscription_pack.slug)
            allowed = billing.check_feature(user_id, "try_on.3d").allowed
            try:
                billing.get_pack(f"absent-{unique_suffix()}")
            except BillingApiError as exc:
                return pack.slug, allowed, exc.code
        raise AssertionError("an absent pack was found")

    # In a thread: the session's event loop keeps running the test stack's collectors meanwhile.
    assert await asyncio.to_thread(reads) == (subscription_pack.slug, True, "pack_not_found")
