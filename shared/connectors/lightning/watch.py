"""Lightning settlement without a callback: a bounded poll of open invoices, and the NWC wallet's
``payment_received`` notifications (best effort, so the poll stays). Both only publish raw
deliveries; webhook_ingest re-reads and decides exactly as for a webhook.

The poll backs off per invoice (interval * 2^n, capped) and stops once the invoice is settled,
expired, or past its expiry by one capped interval. Rows are claimed with SKIP LOCKED, so several
gateways split the work instead of repeating it.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
import structlog
from aiohttp import web

from shared.connectors.gateway_runtime import GATEWAY_RUNTIME, GatewayRuntime
from shared.connectors.lightning import invoice_store
from shared.connectors.lightning.adapter import LightningAdapter
from shared.connectors.lightning.http.runtime import lightning_adapter
from shared.connectors.lightning.nwc.client import payment_notifications
from shared.connectors.lightning.tables import LightningInvoice
from shared.db.unit_of_work import unit_of_work
from shared.domain.errors import ProviderError
from shared.domain.provider import Provider
from shared.messaging.raw_deliveries import RawDelivery, publish_raw_delivery

log = structlog.get_logger(__name__)
POLL_BATCH = 50
# An invoice whose change was published is polled again only after this (or the long interval):
# the observation is queued for ingest, and repeating it while ingest lags only grows its backlog.
OBSERVED_REPOLL_S = 30.0


async def run_in_background(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: start the poll and the NWC listener, stop them on shutdown."""
    ctx = app[GATEWAY_RUNTIME]
    adapter = lightning_adapter(app)
    tasks: list[asyncio.Task[None]] = []
    if adapter is not None and ctx.settings.lightning.poll_enabled:
        tasks.append(asyncio.create_task(LightningPoller(ctx, adapter).run_forever()))
    if ctx.settings.nwc.uri.get_secret_value():
        tasks.append(asyncio.create_task(relay_nwc_notifications(ctx)))
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


class LightningPoller:
    def __init__(self, ctx: GatewayRuntime, adapter: LightningAdapter) -> None:
        self._ctx = ctx
        self._adapter = adapter
        self._interval_s = ctx.settings.lightning.poll_interval_s
        self._max_interval_s = ctx.settings.lightning.poll_max_interval_s

    async def run_forever(self) -> None:
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lightning_poll_failed")
            await asyncio.sleep(self._interval_s / 2)

    async def poll_once(self) -> int:
        """Re-read every invoice whose poll is due; publish those the provider sees differently."""
        now = datetime.now(UTC)
        async with unit_of_work(self._ctx.sessions) as session:
            due = await invoice_store.claim_due_for_poll(session, now, POLL_BATCH)
            for invoice in due:
                self._schedule_next(invoice, now)
        observed: list[LightningInvoice] = []
        for invoice in due:
            try:
                reading = await self._adapter.receipts.backend_for(invoice).read_invoice(invoice)
            except ProviderError as exc:
                log.warning("lightning_poll_read_failed", invoice_id=str(invoice.id), error=str(exc))
                continue
            if reading.status.value != invoice.status:
                observed.append(invoice)
                await self._publish(invoice, reading.status.value)
        if observed:
            await self._await_ingest(observed, now)
        return len(observed)

    async def _await_ingest(self, observed: list[LightningInvoice], now: datetime) -> None:
        """Poll what was just published only after ``OBSERVED_REPOLL_S``: ingest is about to settle it."""
        async with unit_of_work(self._ctx.sessions) as session:
            await invoice_store.postpone_poll(
                session,
                [invoice.id for invoice in observed],
                now + timedelta(seconds=max(self._max_interval_s, OBSERVED_REPOLL_S)),
            )

    def _schedule_next(self, invoice: LightningInvoice, now: datetime) -> None:
        delay_s = min(self._max_interval_s, self._interval_s * 2 ** min(invoice.poll_count, 16))
        past_expiry = now > invoice.expires_at + timedelta(seconds=self._max_interval_s)
        invoice.next_poll_at = None if past_expiry else now + timedelta(seconds=delay_s)
        invoice.poll_count += 1

    async def _publish(self, invoice: LightningInvoice, observed: str) -> None:
        body = orjson.dumps(
            {"source": "poll", "paymentHash": invoice.payment_hash, "observedStatus": observed}
        )
        await publish_raw_delivery(
            self._ctx.producer,
            self._ctx.topics.webhooks_raw,
            _lightning_delivery("poll", f"{invoice.payment_hash}:{observed}", body),
        )
        log.info(
            "lightning_poll_observed", invoice_id=str(invoice.id), observed=observed, previous=invoice.status
        )


async def relay_nwc_notifications(ctx: GatewayRuntime) -> None:
    """Forward every ``payment_received`` notification as a raw delivery; reconnect on failure."""
    uri = ctx.settings.nwc.uri.get_secret_value()
    while True:
        try:
            async for notification in payment_notifications(uri):
                inner = notification.get("notification")
                payment_hash = inner.get("payment_hash") if isinstance(inner, dict) else None
                if not isinstance(payment_hash, str):
                    continue
                await publish_raw_delivery(
                    ctx.producer,
                    ctx.topics.webhooks_raw,
                    _lightning_delivery("nwc", payment_hash, orjson.dumps(notification)),
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("nwc_notifications_failed")
        await asyncio.sleep(1.0)


def _lightning_delivery(source: str, delivery_id: str, body: bytes) -> RawDelivery:
    return RawDelivery(provider=Provider.LIGHTNING, source=source, delivery_id=delivery_id, body=body)
