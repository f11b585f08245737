"""RevenueCat as a ``ProviderPlugin``: webhooks are triggers, the subscribers API decides."""

from collections.abc import Mapping, Sequence

from aiohttp import web

from shared.catalog.provider_catalog import ProviderCatalog
from shared.connectors.base import (
    AcceptedWebhook,
    BackgroundTask,
    BillingConnector,
    ProviderResources,
)
from shared.connectors.revenuecat.adapter import RevenueCatAdapter
from shared.connectors.revenuecat.catalog import RevenueCatCatalog
from shared.connectors.revenuecat.cli import revenuecat_app
from shared.connectors.revenuecat.client import RevenueCatClient
from shared.connectors.revenuecat.ingest import revenuecat_updates
from shared.connectors.revenuecat.reconcile_truth import revenuecat_truth
from shared.connectors.revenuecat.users import app_user_id_for, user_id_from_app_user_ids
from shared.connectors.revenuecat.webhook import verify_revenuecat_webhook
from shared.db.pruning import ProviderDedupeRows
from shared.domain.entitlements import EntitlementUpdate
from shared.domain.provider import Provider
from shared.domain.reconciliation import ProviderTruth
from shared.messaging.raw_deliveries import RawDelivery
from shared.security.personal_data import Erasure, PersonalDataTable
from shared.security.retention import RawPayloadColumn
from shared.security.secret_names import SecretKind, SecretSpec, bearer_value
from shared.security.secrets import SecretProvider
from shared.settings import Settings


class RevenueCatProvider:
    provider = Provider.REVENUECAT
    gateway_routes: Sequence[web.AbstractRouteDef] = ()
    cli = revenuecat_app
    secret_specs: Sequence[SecretSpec] = (
        SecretSpec("revenuecat_webhook_authorization", SecretKind.WEBHOOK, bearer_value),
        SecretSpec("revenuecat_api_key", SecretKind.CREDENTIAL),
        SecretSpec("revenuecat_api_v2_key", SecretKind.CREDENTIAL),
    )
    personal_data: Sequence[PersonalDataTable] = (
        PersonalDataTable(
            "revenuecat_unapplied_events", "app_user_id", Erasure.PSEUDONYMISE, json_columns=("payload",)
        ),
    )
    raw_payloads: Sequence[RawPayloadColumn] = (
        RawPayloadColumn("revenuecat_unapplied_events", "payload", "received_at"),
    )
    dedupe_rows: Sequence[ProviderDedupeRows] = ()  # RevenueCat's dedupe is processed_events alone

    def user_id_at_provider(self, user_id: str) -> str:
        return app_user_id_for(user_id)

    def is_configured(self, settings: Settings) -> bool:
        return True

    def connector(self, resources: ProviderResources) -> BillingConnector:
        return RevenueCatAdapter(
            resources.settings, resources.http, resources.sessions, resources.updates, self.catalog(resources)
        )

    def catalog(self, resources: ProviderResources) -> ProviderCatalog | None:
        settings = resources.settings
        if not settings.revenuecat.project_id:
            return None
        client = RevenueCatClient.from_settings(settings, resources.http)
        return RevenueCatCatalog(client, app_id=settings.revenuecat.app_id)

    async def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, secrets: SecretProvider
    ) -> AcceptedWebhook:
        return await verify_revenuecat_webhook(headers, body, secrets)

    async def updates_from_delivery(
        self, delivery: RawDelivery, connector: BillingConnector, resources: ProviderResources
    ) -> list[EntitlementUpdate]:
        assert isinstance(connector, RevenueCatAdapter)
        return await revenuecat_updates(delivery, connector, resources.sessions)

    async def truth_for(
        self, user_id: str, connector: BillingConnector, resources: ProviderResources
    ) -> list[ProviderTruth]:
        assert isinstance(connector, RevenueCatAdapter)
        return await revenuecat_truth(user_id, connector, resources)

    async def customers(self, connector: BillingConnector, resources: ProviderResources) -> list[str]:
        assert isinstance(connector, RevenueCatAdapter)
        if not resources.settings.revenuecat.project_id:
            return []  # listing customers is API v2, which needs the project
        listed = await connector.client.list_v2("customers", {"limit": "100"})
        found = (user_id_from_app_user_ids([customer.get("id")]) for customer in listed)
        return sorted({user_id for user_id in found if user_id is not None})

    def gateway_tasks(self) -> Sequence[BackgroundTask]:
        return ()


REVENUECAT = RevenueCatProvider()
