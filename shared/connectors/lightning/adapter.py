"""``LightningAdapter``: the ``BillingConnector`` for Lightning, over BTCPay Server or Alby Hub (NWC).

Checkout prices the pack in msat (through the price oracle when it is priced in fiat), asks the
configured back end for an invoice, checks the BOLT11 before handing it out, and records it.
Receipts are validated against the provider's own answer (``receipts``), refunds in ``refunds``.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.catalog.provider_catalog import ProviderCatalog
from shared.connectors.catalog_push import SyncOutcome, no_catalog, sync_provider_catalog
from shared.connectors.lightning import invoice_store
from shared.connectors.lightning.backends import InvoiceRequest, LightningBackend
from shared.connectors.lightning.btcpay.backend import BtcpayBackend
from shared.connectors.lightning.confirmation import ReceiptValidator
from shared.connectors.lightning.delivery_targets import SettlementCheck
from shared.connectors.lightning.lnurl_pay import pay_metadata, session_callback_url, session_lnurl
from shared.connectors.lightning.nwc.backend import NwcBackend
from shared.connectors.lightning.nwc.client import NwcClient
from shared.connectors.lightning.pricing.oracle import PriceOracle
from shared.connectors.lightning.refunds import Refunds, RefundView
from shared.connectors.lightning.tables import LightningInvoice
from shared.db.unit_of_work import unit_of_work
from shared.domain.checkout import CheckoutInput, CheckoutSession
from shared.domain.entitlements import EntitlementUpdate
from shared.domain.errors import ProviderError
from shared.domain.packs import BillingKind, MicroSaasPack
from shared.domain.provider import Provider
from shared.messaging.telemetry import TelemetryPublisher
from shared.settings import Settings

log = structlog.get_logger(__name__)
PROVIDER = Provider.LIGHTNING.value


def configured_backends(settings: Settings, http: httpx.AsyncClient) -> dict[str, LightningBackend]:
    """Every back end the settings describe; invoices of either can be validated by any service."""
    backends: dict[str, LightningBackend] = {}
    if settings.btcpay.base_url and settings.btcpay.api_key.get_secret_value():
        backends["btcpay"] = BtcpayBackend(settings, http)
    if settings.nwc.uri.get_secret_value():
        backends["nwc"] = NwcBackend(NwcClient(settings.nwc.uri.get_secret_value(), settings.nwc.timeout_s))
    return backends


class LightningAdapter:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        backends: Mapping[str, LightningBackend],
        oracle: PriceOracle | None = None,
        catalog: ProviderCatalog | None = None,
        telemetry: TelemetryPublisher | None = None,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._backends = backends
        self._oracle = oracle
        self._catalog = catalog
        self._public_base_url = (
            settings.lightning.public_base_url or f"http://{settings.gateway_host}:{settings.gateway_port}"
        )
        self.receipts = ReceiptValidator(sessions, backends, telemetry)
        self.refunds = Refunds(sessions, backends)

    # --- BillingConnector -------------------------------------------------------------------
    async def sync_catalog(self, packs: Sequence[MicroSaasPack], *, push: bool = True) -> SyncOutcome:
        """BTCPay subscription plans (and offerings) made to match ``packs`` (``btcpay/store_pricing.py``)."""
        if self._catalog is None:
            return no_catalog(Provider.LIGHTNING)
        return await sync_provider_catalog(self._sessions, self._catalog, packs, push=push)

    async def create_checkout_session(self, checkout: CheckoutInput, pack: MicroSaasPack) -> CheckoutSession:
        backend = self._checkout_backend()
        async with self._sessions() as session:
            listing = await invoice_store.lightning_listing(session, pack.id)
            renewing = (
                await invoice_store.renewable_grant(session, checkout.user_id, pack.id)
                if pack.billing_kind is BillingKind.SUBSCRIPTION
                else None
            )
        if listing is None:
            raise ProviderError(PROVIDER, f"pack {pack.slug} is not sold over Lightning", retryable=False)
        expiry_s = self._settings.lightning.invoice_expiry_s
        quote = None
        if listing.currency.upper() == "BTC":
            amount_msat = listing.price  # BTC listings are priced in msat
        else:
            if self._oracle is None:
                raise ProviderError(PROVIDER, "no price oracle for a fiat-priced pack", retryable=False)
            quote = await self._oracle.lock_quote(listing.price, listing.currency, expiry_s)
            amount_msat = quote.amount_msat
        session_id = uuid.uuid4()
        description = f"HomeTryOn {pack.display_name} (checkout {session_id})"
        metadata = pay_metadata(description)
        issued = await backend.create_invoice(
            InvoiceRequest(
                order_id=str(session_id),
                amount_msat=backend.invoice_amount_msat(amount_msat),
                expiry_s=expiry_s,
                description=description,
                lnurl_metadata=metadata,
                success_url=checkout.success_url,
                item_code=listing.provider_product_id,
                metadata=checkout.metadata,
            )
        )
        purchase_reference = renewing.purchase_reference if renewing is not None else issued.payment_hash
        now = datetime.now(UTC)
        async with unit_of_work(self._sessions) as session:
            session.add(
                LightningInvoice(
                    id=uuid.uuid4(),
                    checkout_session_id=session_id,
                    backend=backend.name,
                    provider_invoice_id=issued.provider_invoice_id,
                    payment_hash=issued.payment_hash,
                    bolt11=issued.bolt11,
                    user_id=checkout.user_id,
                    catalog_id=pack.id,
                    provider_product_id=listing.provider_product_id,
                    purchase_reference=purchase_reference,
                    amount_msat=issued.amount_msat,
                    fiat_amount_minor=quote.amount_minor if quote else None,
                    fiat_currency=quote.currency if quote else None,
                    quote_id=quote.id if quote else None,
                    quote_rate=str(quote.btc_price) if quote else None,
                    lnurl_metadata=metadata,
                    status="open",
                    expires_at=issued.expires_at,
                    next_poll_at=now + timedelta(seconds=self._settings.lightning.poll_interval_s),
                    poll_count=0,
                )
            )
        log.info(
            "lightning_invoice_issued",
            backend=backend.name,
            session_id=str(session_id),
            amount_msat=issued.amount_msat,
            quote_id=quote.id if quote else None,
        )
        return CheckoutSession(
            id=session_id,
            user_id=checkout.user_id,
            pack_slug=pack.slug,
            provider=Provider.LIGHTNING,
            lightning_invoice=issued.bolt11,
            lnurl=session_lnurl(self._public_base_url, str(session_id)),
            amount_minor=listing.price if quote else None,
            currency=listing.currency.upper(),
            amount_msat=issued.amount_msat,
            purchase_reference=purchase_reference,
            expires_at=issued.expires_at,
        )

    async def validate_receipt(self, event: Any) -> list[EntitlementUpdate]:
        """Updates a delivery leads to, decided by re-reading the provider (never by the delivery)."""
        check = event if isinstance(event, SettlementCheck) else SettlementCheck.model_validate(event)
        if check.pull_payment_id is not None and check.payout_id is not None:
            return await self.refunds.validate_payout(check)
        return await self.receipts.validate(check)

    async def revoke_entitlement(self, user_id: str, purchase_reference: str, reason: str) -> None:
        """A refund: starts the pull payment; the entitlement is revoked once its payout completes.

        Expiry needs nothing from the provider: the expiry sweeper ends the entitlement.
        """
        if reason == "expired":
            return
        await self.refunds.start(user_id, purchase_reference, reason)

    # --- refunds and LNURL-pay (gateway endpoints) --------------------------------------------
    async def start_refund(self, purchase_reference: str, reason: str) -> RefundView:
        return await self.refunds.start(None, purchase_reference, reason)

    async def lnurl_pay_request(self, session_id: uuid.UUID) -> dict[str, Any]:
        """LUD-06 step 2: ``payRequest`` for the session's invoice, or ``{"status": "ERROR"}``."""
        invoice = await self._payable_invoice(session_id)
        terms = await self._backend(invoice).lnurl_terms(invoice)
        return {
            "tag": "payRequest",
            "callback": session_callback_url(self._public_base_url, str(session_id)),
            "minSendable": terms.min_sendable_msat,
            "maxSendable": terms.max_sendable_msat,
            "metadata": terms.metadata,
            "commentAllowed": 0,
        }

    async def lnurl_invoice(self, session_id: uuid.UUID, amount_msat: int) -> dict[str, Any]:
        """LUD-06 step 3: ``{"pr": <bolt11>, "routes": []}`` with ``h`` = sha256(metadata)."""
        invoice = await self._payable_invoice(session_id)
        bolt11 = await self._backend(invoice).lnurl_invoice(invoice, amount_msat)
        return {"pr": bolt11, "routes": []}

    async def _payable_invoice(self, session_id: uuid.UUID) -> LightningInvoice:
        async with self._sessions() as session:
            invoice = await invoice_store.invoice_for_session(session, session_id)
        if invoice is None:
            raise LookupError(f"no Lightning checkout {session_id}")
        if invoice.status != "open" or invoice.expires_at <= datetime.now(UTC):
            raise ProviderError(PROVIDER, f"checkout is {invoice.status}, not payable", retryable=False)
        return invoice

    def _backend(self, invoice: LightningInvoice) -> LightningBackend:
        return self.receipts.backend_for(invoice)

    def _checkout_backend(self) -> LightningBackend:
        backend = self._backends.get(self._settings.lightning.backend)
        if backend is None:
            raise ProviderError(
                PROVIDER, f"back end {self._settings.lightning.backend!r} is not configured", retryable=False
            )
        return backend
