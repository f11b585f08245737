"""RevenueCat test helpers: webhook bodies shaped like the sample events, the sandbox's control API,
packs sold on RevenueCat, and deterministic waits on the pipeline."""

import asyncio
import time
import uuid
from collections.abc import Collection
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from apps.stack.seed import upsert_pack
from shared.db.models import BillingCatalogProvider, Outbox, ProcessedEvent, UserEntitlement
from shared.domain.packs import BillingKind, MicroSaasPack, ProviderProduct
from shared.domain.provider import Provider


def revenuecat_event(
    event_type: str,
    *,
    app_user_id: str | None,
    product_id: str,
    event_id: str | None = None,
    event_timestamp_ms: int | None = None,
    purchased_at_ms: int | None = None,
    expiration_at_ms: int | None = None,
    original_transaction_id: str = "1000000000001",
    **extra: Any,
) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    event: dict[str, Any] = {
        "event_timestamp_ms": event_timestamp_ms or now_ms,
        "product_id": product_id,
        "period_type": "NORMAL",
        "purchased_at_ms": purchased_at_ms or now_ms,
        "expiration_at_ms": expiration_at_ms or now_ms + 7 * 86_400_000,
        "environment": "SANDBOX",
        "entitlement_id": None,
        "entitlement_ids": ["pro"],
        "presented_offering_id": None,
        "transaction_id": original_transaction_id,
        "original_transaction_id": original_transaction_id,
        "is_family_share": False,
        "country_code": "US",
        "app_user_id": app_user_id,
        "aliases": [app_user_id] if app_user_id else [],
        "original_app_user_id": app_user_id,
        "currency": "USD",
        "price": 4.99,
        "price_in_purchased_currency": 4.99,
        "subscriber_attributes": {},
        "store": "APP_STORE",
        "takehome_percentage": 0.7,
        "tax_percentage": 0.0,
        "commission_percentage": 0.3,
        "offer_code": None,
        "type": event_type,
        "id": event_id or str(uuid.uuid4()).upper(),
        "app_id": "app1234567890",
    }
    event.update(extra)
    return {"event": event, "api_version": "1.0"}


class RevenueCatSandbox:
    """Drives the RevenueCat sandbox's control API (simulations, deliveries, faults)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self.base_url = base_url

    async def simulate(self, kind: str, **body: Any) -> dict[str, Any]:
        """Run a simulation; returns the webhook event it sent (or held)."""
        response = await self._http.post(f"{self.base_url}/control/simulate/{kind}", json=body)
        assert response.status_code == 200, response.text
        event: dict[str, Any] = response.json()["event"]
        return event

    async def flush(self, *, shuffle: bool = False, seed: int | None = None) -> list[str]:
        response = await self._http.post(
            f"{self.base_url}/control/webhooks/flush", json={"shuffle": shuffle, "seed": seed}
        )
        order: list[str] = response.json()["order"]
        return order

    async def deliveries(self, event_id: str) -> list[dict[str, Any]]:
        response = await self._http.get(f"{self.base_url}/control/deliveries", params={"event_id": event_id})
        found: list[dict[str, Any]] = response.json()["deliveries"]
        return found

    async def wait_delivered(self, event_id: str, copies: int = 1, timeout_s: float = 30) -> None:
        """Wait until the gateway answered 200 to ``copies`` deliveries of the event."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while sum(d["state"] == "delivered" for d in await self.deliveries(event_id)) < copies:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{copies} deliveries of {event_id} not acknowledged in {timeout_s}s")
            await asyncio.sleep(0.05)

    async def add_alias(self, app_user_id: str, alias: str) -> None:
        response = await self._http.post(
            f"{self.base_url}/control/aliases", json={"app_user_id": app_user_id, "alias": alias}
        )
        assert response.status_code == 200, response.text

    async def skew_clock(self, offset_ms: int) -> None:
        """Run RevenueCat's clock ``offset_ms`` ahead of ours (negative: behind); 0 puts it right."""
        response = await self._http.post(f"{self.base_url}/control/clock", json={"offset_ms": offset_ms})
        assert response.status_code == 200, response.text

    async def fault(self, **body: Any) -> None:
        response = await self._http.post(f"{self.base_url}/control/faults", json=body)
        assert response.status_code in (200, 201), response.text

    async def api_calls(self, app_user_id: str) -> int:
        response = await self._http.get(
            f"{self.base_url}/control/api-calls", params={"api": "v1", "app_user_id": app_user_id}
        )
        count: int = response.json()["count"]
        return count

    async def customer_info(self, app_user_id: str) -> dict[str, Any]:
        response = await self._http.get(f"{self.base_url}/control/customers/{app_user_id}")
        body: dict[str, Any] = response.json()
        return body


async def make_pack(
    sessions: async_sessionmaker[AsyncSession],
    *,
    kind: BillingKind = BillingKind.SUBSCRIPTION,
    provider_ids: dict[str, Any] | None = None,
) -> tuple[MicroSaasPack, str]:
    """A pack sold on RevenueCat as a product unique to the caller; returns (pack, product id)."""
    suffix = uuid.uuid4().hex[:8]
    pack = MicroSaasPack(
        id=uuid.uuid4(),
        slug=f"rc-pack-{suffix}",
        display_name=f"RevenueCat pack {suffix}",
        features=[f"feature.{suffix}"],
        default_price=499,
        billing_kind=kind,
        billing_period="P1W" if kind is BillingKind.SUBSCRIPTION else None,
    )
    product_id = f"com.hometryon.{kind.value}.{suffix}"
    product = ProviderProduct(
        provider=Provider.REVENUECAT, provider_product_id=product_id, currency="USD", price=499
    )
    async with sessions() as session, session.begin():
        await upsert_pack(session, pack, [product])
        if provider_ids:
            await session.execute(
                update(BillingCatalogProvider)
                .where(BillingCatalogProvider.provider_product_id == product_id)
                .values(provider_ids=provider_ids)
            )
    return pack, product_id


async def wait_until_applied(
    sessions: async_sessionmaker[AsyncSession],
    event_id: str,
    user_id: str,
    products: Collection[str] = (),
    timeout_s: float = 30,
) -> None:
    """Wait until the worker applied what one webhook event produced for ``user_id``: the update of
    each of ``products`` (pass them when an event touches several), else at least one update."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    wanted = {f"{event_id}:{user_id}:{product}" for product in products}
    while True:
        async with sessions() as session:
            applied = set(
                (
                    await session.execute(
                        select(ProcessedEvent.provider_event_id).where(
                            ProcessedEvent.provider_event_id.like(f"{event_id}:{user_id}:%")
                        )
                    )
                ).scalars()
            )
        if applied and wanted <= applied:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"event {event_id} was not applied for {user_id} within {timeout_s}s")
        await asyncio.sleep(0.05)


async def entitlement_rows(
    sessions: async_sessionmaker[AsyncSession], user_id: str
) -> dict[str, tuple[str, str | None]]:
    """The user's RevenueCat entitlements: product (purchase reference) → (status, reason)."""
    async with sessions() as session:
        rows = await session.execute(
            select(
                UserEntitlement.purchase_reference, UserEntitlement.status, UserEntitlement.status_reason
            ).where(UserEntitlement.user_id == user_id, UserEntitlement.source_provider == "revenuecat")
        )
        return {ref: (status, reason) for ref, status, reason in rows.all()}


async def announced(sessions: async_sessionmaker[AsyncSession], event_id: str) -> list[tuple[str, str]]:
    """Entitlement events one webhook event caused, as (type, user id), read from the outbox.

    The outbox row is written in the same transaction as the processed-event row, so after
    ``wait_until_applied`` this is complete: an empty list means no event was announced.
    """
    async with sessions() as session:
        rows = await session.execute(
            select(Outbox.event_type, Outbox.key)
            .where(Outbox.payload["data"]["provider_event_id"].astext.like(f"{event_id}:%"))
            .order_by(Outbox.seq)
        )
        return [(event_type, key) for event_type, key in rows.all()]
