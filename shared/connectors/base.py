"""The trait set every billing provider implements: the seed's ``BillingConnector`` and the
``ProviderPlugin`` the pipeline needs (webhook verification, delivery parsing, routes, tasks, CLI).

A provider is one folder under ``shared/connectors/<provider>/``; its ``provider.py`` defines the
plugin, and ``shared/connectors/registry.py`` lists the plugins. See ``docs/adding-a-provider.md``.
"""

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import typer
from aiohttp import web
from pydantic import ValidationError
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.catalog.provider_catalog import ProviderCatalog
from shared.connectors.catalog_push import SyncOutcome
from shared.db.pruning import ProviderDedupeRows
from shared.domain.checkout import CheckoutInput, CheckoutSession
from shared.domain.entitlements import EntitlementUpdate
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider
from shared.domain.reconciliation import ProviderTruth
from shared.http.errors import first_problem
from shared.messaging.entitlement_updates import EntitlementUpdatePublisher
from shared.messaging.raw_deliveries import RawDelivery
from shared.messaging.telemetry import TelemetryPublisher
from shared.security.personal_data import PersonalDataTable
from shared.security.retention import RawPayloadColumn
from shared.security.secret_names import SecretSpec
from shared.security.secrets import SecretProvider
from shared.settings import Settings

BackgroundTask = Callable[[web.Application], AsyncIterator[None]]


class BillingConnector(Protocol):
    async def sync_catalog(self, packs: Sequence[MicroSaasPack], *, push: bool = True) -> SyncOutcome:
        """Make the provider's catalog sell ``packs`` as ours lists them; a report of what differed
        and what was pushed (without ``push``, a dry run: only compared). ``catalog_push.py``."""

    async def create_checkout_session(self, checkout: CheckoutInput, pack: MicroSaasPack) -> CheckoutSession:
        """Start a purchase of ``pack`` for the user."""

    async def validate_receipt(self, event: Any) -> list[EntitlementUpdate]:
        """Confirm a provider event against the provider's own state; the authoritative updates."""

    async def revoke_entitlement(self, user_id: str, purchase_reference: str, reason: str) -> None:
        """Withdraw an entitlement the provider no longer honours."""


@dataclass(frozen=True)
class ProviderResources:
    """What a process lends its providers, built once by the bootstrap."""

    settings: Settings
    http: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    # where a connector proposes updates of its own (a revocation): the user's partition, like ingest
    updates: EntitlementUpdatePublisher
    telemetry: TelemetryPublisher  # best-effort analytics events (shared/messaging/telemetry.py)


class WebhookRejected(Exception):
    """A webhook that is not the provider's, or not a delivery we can read: answered 4xx, never queued."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    @classmethod
    def unreadable(cls, exc: ValidationError) -> "WebhookRejected":
        """A body that does not parse as the provider's webhook: 400 naming its first problem."""
        message, field = first_problem(exc)
        return cls(400, "invalid_webhook", message, field or None)


@dataclass(frozen=True)
class AcceptedWebhook:
    """A verified webhook: the raw delivery to queue, and the body of the 200 the provider gets."""

    delivery: RawDelivery
    answer: Mapping[str, Any]
    event_type: str


class ProviderPlugin(Protocol):
    provider: Provider
    # routes the gateway serves for this provider beside ``POST /v1/webhooks/{provider}`` (may be empty)
    gateway_routes: Sequence[web.AbstractRouteDef]
    # ``billing <provider> ...`` subcommands
    cli: typer.Typer
    # the secrets it verifies webhooks with or presents to the provider
    secret_specs: Sequence[SecretSpec]
    # its tables that hold personal data (export and erasure), and raw payloads (retention)
    personal_data: Sequence[PersonalDataTable]
    raw_payloads: Sequence[RawPayloadColumn]
    # its own record of deliveries seen, pruned like processed_events (shared/db/pruning.py)
    dedupe_rows: Sequence[ProviderDedupeRows]

    def user_id_at_provider(self, user_id: str) -> str:
        """The id the provider knows our user by (erasure and export look for it too)."""

    def is_configured(self, settings: Settings) -> bool:
        """Whether this deployment sells through the provider at all."""

    def connector(self, resources: ProviderResources) -> BillingConnector:
        """The provider's ``BillingConnector``, one per process."""

    def catalog(self, resources: ProviderResources) -> ProviderCatalog | None:
        """The catalog catalog_sync keeps equal to ours, or None where the provider has none."""

    async def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, secrets: SecretProvider
    ) -> AcceptedWebhook:
        """Check the webhook's own authentication on the raw body; raises ``WebhookRejected``."""

    async def updates_from_delivery(
        self, delivery: RawDelivery, connector: BillingConnector, resources: ProviderResources
    ) -> list[EntitlementUpdate]:
        """A raw delivery, confirmed against the provider: the authoritative entitlement updates."""

    def gateway_tasks(self) -> Sequence[BackgroundTask]:
        """aiohttp cleanup contexts the gateway runs for the provider (pollers, listeners)."""

    async def truth_for(
        self, user_id: str, connector: BillingConnector, resources: ProviderResources
    ) -> list[ProviderTruth]:
        """What the provider says the user's purchases grant now, read-only (``billing reconcile``)."""

    async def customers(self, connector: BillingConnector, resources: ProviderResources) -> list[str]:
        """Our user ids the provider has as customers, for a full reconcile: a purchase made at the
        provider alone (in the app) whose webhooks were lost leaves no trace on our side."""
