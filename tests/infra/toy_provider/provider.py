"""The toy provider's plugin and connector: the whole trait set of shared/connectors/base.py, with
nothing behind it but its webhooks (no catalog, no checkout, no API to confirm against)."""

from collections.abc import Mapping, Sequence
from secrets import token_urlsafe
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from shared.catalog.provider_catalog import ProviderCatalog
from shared.connectors.base import (
    AcceptedWebhook,
    BackgroundTask,
    BillingConnector,
    ProviderResources,
    WebhookRejected,
)
from shared.connectors.catalog_push import SyncOutcome, no_catalog
from shared.db.pruning import ProviderDedupeRows
from shared.domain.checkout import CheckoutInput, CheckoutSession
from shared.domain.entitlements import EntitlementUpdate
from shared.domain.errors import ProviderError
from shared.domain.packs import MicroSaasPack
from shared.domain.reconciliation import ProviderTruth
from shared.messaging.raw_deliveries import RawDelivery
from shared.security.personal_data import PersonalDataTable
from shared.security.retention import RawPayloadColumn
from shared.security.secret_names import SecretKind, SecretSpec
from shared.security.secrets import SecretProvider
from shared.settings import Settings
from tests.infra.toy_provider.cli import toy_app
from tests.infra.toy_provider.delivery import SECRET_NAME, SIGNATURE_HEADER, ToyEvent, signature_matches
from tests.infra.toy_provider.mapping import TOY, update_of


class ToyConnector:
    """The seed's four methods; the toy's webhooks carry the whole truth, so a receipt is its event."""

    async def sync_catalog(self, packs: Sequence[MicroSaasPack], *, push: bool = True) -> SyncOutcome:
        return no_catalog(TOY)

    async def create_checkout_session(self, checkout: CheckoutInput, pack: MicroSaasPack) -> CheckoutSession:
        raise ProviderError(TOY.value, "the toy provider sells nothing by checkout", retryable=False)

    async def validate_receipt(self, event: Any) -> list[EntitlementUpdate]:
        return [update_of(ToyEvent.model_validate(event))]

    async def revoke_entitlement(self, user_id: str, purchase_reference: str, reason: str) -> None:
        raise ProviderError(TOY.value, "the toy provider takes no revocations", retryable=False)


class ToyProvider:
    provider = TOY
    gateway_routes: Sequence[web.AbstractRouteDef] = ()
    cli = toy_app
    secret_specs: Sequence[SecretSpec] = (
        SecretSpec(SECRET_NAME, SecretKind.WEBHOOK, lambda: token_urlsafe(32)),
    )
    personal_data: Sequence[PersonalDataTable] = ()
    raw_payloads: Sequence[RawPayloadColumn] = ()
    dedupe_rows: Sequence[ProviderDedupeRows] = ()  # processed_events is its whole record

    def user_id_at_provider(self, user_id: str) -> str:
        return user_id

    def is_configured(self, settings: Settings) -> bool:
        return True

    def connector(self, resources: ProviderResources) -> BillingConnector:
        return ToyConnector()

    def catalog(self, resources: ProviderResources) -> ProviderCatalog | None:
        return None

    async def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, secrets: SecretProvider
    ) -> AcceptedWebhook:
        received = headers.get(SIGNATURE_HEADER)
        if not await secrets.verify(
            SECRET_NAME, lambda secret: signature_matches(received, secret.reveal(), body)
        ):
            raise WebhookRejected(401, "unauthorized", f"{SIGNATURE_HEADER} does not match the body")
        try:
            event = ToyEvent.model_validate_json(body)
        except ValidationError as exc:
            raise WebhookRejected.unreadable(exc) from exc
        return AcceptedWebhook(
            delivery=RawDelivery(provider=TOY, delivery_id=event.id, body=body),
            answer={"status": "accepted", "event_id": event.id},
            event_type=event.type,
        )

    async def updates_from_delivery(
        self, delivery: RawDelivery, connector: BillingConnector, resources: ProviderResources
    ) -> list[EntitlementUpdate]:
        try:
            event = ToyEvent.model_validate_json(delivery.body)
        except ValidationError as exc:  # verified at the gateway, so never: a dead letter if it were
            raise ValueError(f"not a toy event: {exc}") from exc
        return await connector.validate_receipt(event.model_dump())

    def gateway_tasks(self) -> Sequence[BackgroundTask]:
        return ()

    async def truth_for(
        self, user_id: str, connector: BillingConnector, resources: ProviderResources
    ) -> list[ProviderTruth]:
        return []


PROVIDER = ToyProvider()
