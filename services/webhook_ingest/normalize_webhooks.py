"""Handler: a raw provider delivery becomes entitlement updates on the updates topic."""

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from shared.connectors.revenuecat.events import RevenueCatWebhook
from shared.connectors.revenuecat.normalize import normalize_event
from shared.domain.entitlements import EntitlementUpdate
from shared.domain.provider import Provider


def provider_of(record: ConsumerRecord[bytes, bytes]) -> Provider:
    for name, value in record.headers:
        if name == "provider":
            return Provider(value.decode())
    raise ValueError("raw webhook has no provider header")


def updates_from_delivery(record: ConsumerRecord[bytes, bytes]) -> list[EntitlementUpdate]:
    provider = provider_of(record)
    if provider is Provider.REVENUECAT:
        webhook = RevenueCatWebhook.model_validate_json(record.value or b"")
        return normalize_event(webhook.event)
    raise ValueError(f"no normalizer for provider {provider.value}")


async def publish_updates(producer: AIOKafkaProducer, topic: str, updates: list[EntitlementUpdate]) -> None:
    """Publish and await every ack before the caller commits the raw delivery's offset."""
    deliveries = [
        await producer.send(
            topic,
            value=update.model_dump_json(by_alias=False).encode(),
            key=update.user_id.encode(),
            headers=[("content-type", b"application/json")],
        )
        for update in updates
    ]
    for delivery in deliveries:
        await delivery
