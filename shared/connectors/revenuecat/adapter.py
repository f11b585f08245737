"""``RevenueCatAdapter``: the ``BillingConnector`` for RevenueCat (checkout links, confirmation, revokes)."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.catalog.provider_catalog import ProviderCatalog
from shared.connectors.catalog_push import SyncOutcome, no_catalog, sync_provider_catalog
from shared.connectors.revenuecat.checkout_links import (
    checkout_attributes,
    hosted_paywall_url,
    web_purchase_link,
)
from shared.connectors.revenuecat.client import PROVIDER, RevenueCatClient
from shared.connectors.revenuecat.customer_info import CustomerInfo
from shared.connectors.revenuecat.customer_reads import CoalescedCustomerReads
from shared.connectors.revenuecat.events import RevenueCatEvent, RevenueCatWebhook, ms_to_datetime
from shared.connectors.revenuecat.known_products import KnownProducts
from shared.connectors.revenuecat.normalize import (
    CLAIMED_STATUS,
    Handling,
    claim_of,
    plan_confirmation,
    rule_for,
)
from shared.connectors.revenuecat.pack_mapping import (
    listing_for_pack,
    pack_ids_by_product,
)
from shared.connectors.revenuecat.snapshot import product_states, updates_from_snapshot
from shared.connectors.revenuecat.users import app_user_id_for
from shared.db.models import BillingCatalogProvider, UserEntitlement
from shared.domain.checkout import CheckoutInput, CheckoutSession
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.errors import ProviderError
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider
from shared.messaging.entitlement_updates import EntitlementUpdatePublisher
from shared.settings import Settings

log = structlog.get_logger(__name__)


class RevenueCatAdapter:
    """Talks to RevenueCat by base URL from settings; the sandbox and the real API look the same."""

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession],
        updates: EntitlementUpdatePublisher,
        catalog: ProviderCatalog | None = None,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._updates = updates
        self._catalog = catalog
        self.client = RevenueCatClient.from_settings(settings, http)
        self._reads = CoalescedCustomerReads(self.customer_info)
        self._known_products = KnownProducts(self._sold_products)

    async def sync_catalog(self, packs: Sequence[MicroSaasPack], *, push: bool = True) -> SyncOutcome:
        """Products, entitlements and offerings at RevenueCat made to match ``packs`` (``catalog.py``)."""
        if self._catalog is None:
            return no_catalog(Provider.REVENUECAT)
        return await sync_provider_catalog(self._sessions, self._catalog, packs, push=push)

    async def create_checkout_session(self, checkout: CheckoutInput, pack: MicroSaasPack) -> CheckoutSession:
        """A Web Purchase Link for the pack's offering, or our hosted paywall when none is configured."""
        async with self._sessions() as session:
            listing = await listing_for_pack(session, pack.id)
        if listing is None:
            raise ProviderError(PROVIDER, f"pack {pack.slug!r} is not sold on RevenueCat", retryable=False)
        app_user_id = app_user_id_for(checkout.user_id)
        token = listing.web_purchase_link_token or self._settings.revenuecat.web_purchase_link_token
        paywall = hosted_paywall_url(self._settings.revenuecat.hosted_paywall_url, pack.slug, app_user_id)
        link = (
            web_purchase_link(
                self._settings.revenuecat.web_purchase_base_url, token, app_user_id, checkout.email
            )
            if token
            else None
        )
        if checkout.metadata:
            attributes = checkout_attributes(checkout.metadata, int(datetime.now(UTC).timestamp() * 1000))
            await self.client.update_subscriber_attributes(app_user_id, attributes)
        return CheckoutSession(
            id=uuid.uuid4(),
            user_id=checkout.user_id,
            pack_slug=pack.slug,
            provider=Provider.REVENUECAT,
            checkout_url=link or paywall,
            fallback_url=paywall,
            amount_minor=pack.default_price,
            currency=pack.currency,
            purchase_reference=listing.product_id,
        )

    async def validate_receipt(
        self, event: Any, *, received_at_ms: int | None = None
    ) -> list[EntitlementUpdate]:
        """Re-read the customer(s) the event names; their snapshot, not the payload, gives the updates.
        With the delivery's ``received_at_ms``, a read already made after it arrived serves instead."""
        event = _as_event(event)
        if rule_for(event).handling is Handling.RECORD_ONLY:
            return []
        plan = plan_confirmation(event)
        info = await self._reads.customer_info(plan.read_app_user_id, received_at_ms=received_at_ms)
        source_info = None
        if plan.transfer_source is not None:
            source_info = await self._reads.customer_info(
                app_user_id_for(plan.transfer_source), received_at_ms=received_at_ms
            )
        shown = {*product_states(info), *(product_states(source_info) if source_info else ())}
        known = await self._known_products.including(shown | plan.named_products)
        updates: list[EntitlementUpdate] = []
        if plan.subject is not None:
            updates += updates_from_snapshot(
                info,
                event=event,
                user_id=plan.subject,
                known_products=known,
                named_products=plan.named_products,
            )
            _log_claim_against_snapshot(event, updates)
        if plan.transfer_source is not None and source_info is not None:
            moved = set(product_states(info))
            updates += updates_from_snapshot(
                source_info,
                event=event,
                user_id=plan.transfer_source,
                known_products=known,
                named_products=moved & known,
                absent_reason=f"transferred to {plan.read_app_user_id}",
            )
        return updates

    async def _sold_products(self) -> frozenset[str]:
        async with self._sessions() as session:
            return frozenset(await pack_ids_by_product(session))

    async def customer_info(self, app_user_id: str) -> CustomerInfo:
        body = await self.client.get_subscriber(app_user_id)
        try:
            return CustomerInfo.model_validate(body)
        except ValueError as exc:
            raise ProviderError(PROVIDER, f"unexpected CustomerInfo shape: {exc}", retryable=False) from exc

    async def revoke_entitlement(self, user_id: str, purchase_reference: str, reason: str) -> None:
        """Propose revoking the user's RevenueCat entitlements with this reference, with ``reason``.

        RevenueCat has no revoke-by-reference for store purchases (the store keeps billing until the
        customer cancels or support refunds), so this only changes our ledger and announces
        ``entitlement.revoked``: the update goes on the user's partition and the worker applies it
        like any other. A later RevenueCat event whose snapshot reports the product active
        re-activates it: cancel or refund in the store to make a revoke final.

        The revocation is stamped with RevenueCat's clock (``request_date_ms`` of a subscribers read
        made now), the clock its snapshots are ordered by: with ours, a RevenueCat clock running
        behind would make every snapshot read after the revoke look older than it and be ignored.
        """
        async with self._sessions() as session:
            rows = await session.execute(
                select(BillingCatalogProvider.provider_product_id)
                .join(
                    UserEntitlement,
                    (BillingCatalogProvider.catalog_id == UserEntitlement.catalog_id)
                    & (BillingCatalogProvider.provider == Provider.REVENUECAT.value),
                )
                .where(
                    UserEntitlement.user_id == user_id,
                    UserEntitlement.source_provider == Provider.REVENUECAT.value,
                    UserEntitlement.purchase_reference == purchase_reference,
                )
            )
            products = sorted(set(rows.scalars().all()))
        if not products:
            raise LookupError(f"user {user_id} has no RevenueCat entitlement {purchase_reference!r}")
        info = await self.customer_info(app_user_id_for(user_id))
        revoked_at = ms_to_datetime(info.request_date_ms)
        await self._updates.publish(
            [
                EntitlementUpdate(
                    update_id=f"revoke:{uuid.uuid4()}",
                    provider=Provider.REVENUECAT,
                    provider_event_type="LOCAL_REVOKE",
                    user_id=user_id,
                    provider_product_id=product,
                    purchase_reference=purchase_reference,
                    status=EntitlementStatus.REVOKED,
                    occurred_at=revoked_at,
                    reason=f"revoked locally: {reason}",
                )
                for product in products
            ]
        )
        log.info("entitlement_revocation_proposed", user_id=user_id, purchase_reference=purchase_reference)


def _as_event(event: Any) -> RevenueCatEvent:
    if isinstance(event, RevenueCatEvent):
        return event
    if isinstance(event, RevenueCatWebhook):
        return event.event
    if isinstance(event, bytes | str):
        return RevenueCatWebhook.model_validate_json(event).event
    return RevenueCatWebhook.model_validate(event).event


def _log_claim_against_snapshot(event: RevenueCatEvent, updates: list[EntitlementUpdate]) -> None:
    """Out-of-order delivery makes the payload disagree with the snapshot; the snapshot wins, say so."""
    claimed = CLAIMED_STATUS.get(claim_of(event))
    for update in updates:
        if (
            claimed is not None
            and update.provider_product_id == event.product_id
            and update.status != claimed
        ):
            log.info(
                "revenuecat_snapshot_overrides_event",
                event_id=event.id,
                event_type=event.type,
                claimed=claimed.value,
                snapshot=update.status.value,
                product_id=update.provider_product_id,
            )
