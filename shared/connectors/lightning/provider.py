"""Lightning as a ``ProviderPlugin``: BTCPay Server or Alby Hub (NWC) back ends, the price oracle,
the LNURL-pay and refund routes, the invoice poller and the NWC listener."""

import secrets
from collections.abc import Mapping, Sequence

from aiohttp import web

from shared.catalog.provider_catalog import ProviderCatalog
from shared.connectors.base import (
    AcceptedWebhook,
    BackgroundTask,
    BillingConnector,
    ProviderResources,
)
from shared.connectors.lightning.adapter import LightningAdapter, configured_backends
from shared.connectors.lightning.btcpay.store_pricing import BtcpayCatalog
from shared.connectors.lightning.cli import lightning_app
from shared.connectors.lightning.http import lnurl, refunds
from shared.connectors.lightning.ingest import lightning_updates
from shared.connectors.lightning.pricing.oracle import price_oracle_from_settings
from shared.connectors.lightning.reconcile_truth import lightning_truth
from shared.connectors.lightning.watch import run_in_background
from shared.connectors.lightning.webhook import verify_lightning_webhook
from shared.db.pruning import ProviderDedupeRows
from shared.domain.entitlements import EntitlementUpdate
from shared.domain.provider import Provider
from shared.domain.reconciliation import ProviderTruth
from shared.messaging.raw_deliveries import RawDelivery
from shared.security.personal_data import Erasure, PersonalDataTable
from shared.security.retention import RawPayloadColumn
from shared.security.secret_names import SecretKind, SecretSpec, standard_webhooks_key
from shared.security.secrets import SecretProvider
from shared.settings import Settings


class LightningProvider:
    provider = Provider.LIGHTNING
    gateway_routes: Sequence[web.AbstractRouteDef] = [*lnurl.routes, *refunds.routes]
    cli = lightning_app
    secret_specs: Sequence[SecretSpec] = (
        SecretSpec("btcpay_webhook_secret", SecretKind.WEBHOOK, lambda: secrets.token_urlsafe(32)),
        SecretSpec("alby_webhook_secret", SecretKind.WEBHOOK, standard_webhooks_key),
        SecretSpec("btcpay_api_key", SecretKind.CREDENTIAL),
        SecretSpec("nwc_uri", SecretKind.CREDENTIAL),
    )
    personal_data: Sequence[PersonalDataTable] = (
        PersonalDataTable(
            "lightning_invoices", "user_id", Erasure.PSEUDONYMISE, cleared_columns=("lnurl_metadata",)
        ),
        PersonalDataTable("lightning_deliveries", None, Erasure.PSEUDONYMISE, json_columns=("detail",)),
        # A receipt is an accounting record: kept under the pseudonym, still verifiable.
        PersonalDataTable("lightning_receipts", "user_id", Erasure.PSEUDONYMISE),
    )
    raw_payloads: Sequence[RawPayloadColumn] = (
        RawPayloadColumn("lightning_deliveries", "detail", "received_at"),
    )
    dedupe_rows: Sequence[ProviderDedupeRows] = (
        ProviderDedupeRows("lightning_deliveries", "received_at", "dedupe_key"),
    )

    def user_id_at_provider(self, user_id: str) -> str:
        return user_id

    def is_configured(self, settings: Settings) -> bool:
        return settings.lightning.backend != "none"

    def connector(self, resources: ProviderResources) -> BillingConnector:
        return LightningAdapter(
            resources.settings,
            resources.sessions,
            configured_backends(resources.settings, resources.http),
            price_oracle_from_settings(resources.settings, resources.http, resources.redis),
            self.catalog(resources),
            resources.telemetry,
        )

    def catalog(self, resources: ProviderResources) -> ProviderCatalog | None:
        settings = resources.settings
        if not (settings.btcpay.base_url and settings.btcpay.store_id):
            return None
        return BtcpayCatalog(
            resources.http,
            base_url=settings.btcpay.base_url,
            store_id=settings.btcpay.store_id,
            api_key=settings.btcpay.api_key.get_secret_value(),
            oracle=price_oracle_from_settings(settings, resources.http, resources.redis),
            max_attempts=settings.catalog_sync_max_attempts,
            backoff_initial_s=settings.catalog_sync_backoff_initial_s,
        )

    async def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, secrets: SecretProvider
    ) -> AcceptedWebhook:
        return await verify_lightning_webhook(headers, body, secrets)

    async def updates_from_delivery(
        self, delivery: RawDelivery, connector: BillingConnector, resources: ProviderResources
    ) -> list[EntitlementUpdate]:
        assert isinstance(connector, LightningAdapter)
        return await lightning_updates(delivery, connector, resources.sessions)

    async def truth_for(
        self, user_id: str, connector: BillingConnector, resources: ProviderResources
    ) -> list[ProviderTruth]:
        assert isinstance(connector, LightningAdapter)
        return await lightning_truth(user_id, connector, resources)

    async def customers(self, connector: BillingConnector, resources: ProviderResources) -> list[str]:
        return []  # every Lightning purchase starts as a checkout of ours: the ledger's side knows them all

    def gateway_tasks(self) -> Sequence[BackgroundTask]:
        return (run_in_background,)


LIGHTNING = LightningProvider()
