"""Lightning test helpers: packs sold over Lightning, the BTCPay/NWC sandboxes' control APIs,
and waits on Postgres state with a deadline (never a bare sleep)."""

import hashlib
import hmac
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from apps.stack.seed import upsert_pack
from shared.connectors.lightning.adapter import LightningAdapter, configured_backends
from shared.connectors.lightning.tables import LightningDelivery, LightningInvoice, LightningRefund
from shared.domain.checkout import CheckoutInput
from shared.domain.packs import BillingKind, MicroSaasPack, ProviderProduct
from shared.domain.provider import Provider
from tests.conftest import Stack
from tests.infra.topic_collector import Published
from tests.infra.waiting import eventually

T = TypeVar("T")


async def lightning_pack(
    sessions: async_sessionmaker[AsyncSession],
    *,
    price: int,
    currency: str,
    kind: BillingKind = BillingKind.ONE_TIME,
    period: str | None = None,
) -> tuple[MicroSaasPack, str]:
    """A pack unique to the test, sold over Lightning; returns it and its Lightning product id."""
    suffix = uuid.uuid4().hex[:8]
    pack = MicroSaasPack(
        id=uuid.uuid4(),
        slug=f"ln-pack-{suffix}",
        display_name=f"Lightning Pack {suffix}",
        features=["color.match"],
        default_price=price,
        currency=currency if currency != "BTC" else "USD",
        billing_kind=kind,
        billing_period=period,
    )
    product_id = f"ln-{suffix}"
    listing = ProviderProduct(
        provider=Provider.LIGHTNING, provider_product_id=product_id, currency=currency, price=price
    )
    async with sessions() as session, session.begin():
        await upsert_pack(session, pack, [listing])
    return pack, product_id


async def checkout(
    http: httpx.AsyncClient, gateway_url: str, user_id: str, pack: MicroSaasPack
) -> dict[str, Any]:
    response = await http.post(
        f"{gateway_url}/v1/checkout", json={"userId": user_id, "packSlug": pack.slug, "provider": "lightning"}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class BtcpaySandbox:
    """The BTCPay sandbox's control API, plus the Greenfield calls tests make as the merchant."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, store_id: str, api_key: str) -> None:
        self.http = http
        self.base_url = base_url
        self._greenfield = f"{base_url}/api/v1/stores/{store_id}"
        self._auth = {"Authorization": f"token {api_key}"}

    async def invoice_id_for(self, session_id: str) -> str:
        rows = await self.greenfield("GET", "/invoices", params={"orderId": session_id})
        assert len(rows) == 1, rows
        return str(rows[0]["id"])

    async def pay(self, invoice_id: str, **options: Any) -> dict[str, Any]:
        return await self._control(f"/control/invoices/{invoice_id}/pay", options)

    async def expire(self, invoice_id: str) -> dict[str, Any]:
        return await self._control(f"/control/invoices/{invoice_id}/expire", {})

    async def complete_refund(self, invoice_id: str) -> Any:
        return await self._control(f"/control/invoices/{invoice_id}/refund/complete", {})

    async def delivery_faults(self, **faults: Any) -> None:
        await self._control("/control/delivery", faults)

    async def faults(self, **faults: Any) -> None:
        """``/control/faults``: no argument clears every fault."""
        await self._control("/control/faults", faults)

    async def set_rate(self, pair: str, rate: str) -> None:
        await self._control("/control/rates", {pair: rate})

    async def deliveries(self) -> list[dict[str, Any]]:
        response = await self.http.get(f"{self.base_url}/control/deliveries")
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()
        return rows

    async def pull_payment(self, pull_payment_id: str) -> dict[str, Any]:
        response = await self.http.get(f"{self.base_url}/api/v1/pull-payments/{pull_payment_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def greenfield(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"{self._greenfield}{path}", headers=self._auth, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    async def _control(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.http.post(f"{self.base_url}{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()


class NwcSandbox:
    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self.http = http
        self.base_url = base_url

    async def pay(self, payment_hash: str, **options: Any) -> dict[str, Any]:
        response = await self.http.post(f"{self.base_url}/control/invoices/{payment_hash}/pay", json=options)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def drop_notifications(self, drop: bool) -> None:
        response = await self.http.post(f"{self.base_url}/control/notifications", json={"drop": drop})
        assert response.status_code == 200, response.text

    async def drop_hosted_webhooks(self, drop: bool) -> None:
        response = await self.http.post(f"{self.base_url}/control/hosted-webhooks", json={"drop": drop})
        assert response.status_code == 200, response.text


def btcpay_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def invoice_row(sessions: async_sessionmaker[AsyncSession], session_id: str) -> LightningInvoice:
    async with sessions() as session:
        row = (
            await session.execute(
                select(LightningInvoice).where(LightningInvoice.checkout_session_id == uuid.UUID(session_id))
            )
        ).scalar_one()
        return row


async def invoice_in_status(
    sessions: async_sessionmaker[AsyncSession], session_id: str, status: str
) -> LightningInvoice:
    async def probe() -> LightningInvoice | None:
        row = await invoice_row(sessions, session_id)
        return row if row.status == status else None

    return await eventually(probe, what=f"invoice status {status}")


async def deliveries_for(
    sessions: async_sessionmaker[AsyncSession], invoice_ref: str
) -> list[LightningDelivery]:
    async with sessions() as session:
        rows = await session.execute(
            select(LightningDelivery).where(LightningDelivery.invoice_ref == invoice_ref)
        )
        return list(rows.scalars().all())


async def refund_row(sessions: async_sessionmaker[AsyncSession], refund_id: str) -> LightningRefund:
    async with sessions() as session:
        return (
            await session.execute(select(LightningRefund).where(LightningRefund.id == uuid.UUID(refund_id)))
        ).scalar_one()


def entitlement_event(
    user_id: str, event_type: str, pack_slug: str | None = None
) -> Callable[[Published], bool]:
    def matches(record: Published) -> bool:
        if user_id.encode() not in record.value:  # other tests' records, some not even JSON
            return False
        event = record.json()
        return (
            event["subject"] == user_id
            and event["type"] == event_type
            and (pack_slug is None or event["data"]["pack_slug"] == pack_slug)
        )

    return matches


@pytest.fixture(name="btcpay")
def btcpay_fixture(stack: Stack, http: httpx.AsyncClient) -> BtcpaySandbox:
    """The session's BTCPay sandbox (import this fixture into a test module to use it)."""
    return BtcpaySandbox(
        http,
        stack.sandbox_urls["btcpay"],
        stack.settings.btcpay.store_id,
        stack.settings.btcpay.api_key.get_secret_value(),
    )


@pytest.fixture(name="nwc")
def nwc_fixture(stack: Stack, http: httpx.AsyncClient) -> NwcSandbox:
    return NwcSandbox(http, stack.sandbox_urls["nwc"])


async def nwc_checkout(
    stack: Stack, http: httpx.AsyncClient, user_id: str, pack: MicroSaasPack
) -> dict[str, str]:
    """The gateway runs BTCPay in a session; an NWC-configured adapter issues the invoice here."""
    settings = stack.settings.with_values(**{"lightning_backend": "nwc"})
    adapter = LightningAdapter(settings, stack.sessions, configured_backends(settings, http))
    session = await adapter.create_checkout_session(
        CheckoutInput(user_id=user_id, pack_slug=pack.slug, provider=Provider.LIGHTNING), pack
    )
    assert session.lightning_invoice is not None and session.purchase_reference is not None
    return {"id": str(session.id), "bolt11": session.lightning_invoice, "hash": session.purchase_reference}
