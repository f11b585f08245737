"""Handler: a raw provider delivery becomes entitlement updates on the updates topic.

Dispatch is on the ``provider`` header the gateway set; each provider has its own module here.
"""

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from services.webhook_ingest.context import IngestContext
from services.webhook_ingest.lightning import lightning_updates
from services.webhook_ingest.revenuecat import revenuecat_updates
from shared.domain.entitlements import EntitlementUpdate
from shared.domain.provider import Provider


def provider_of(record: ConsumerRecord[bytes, bytes]) -> Provider:
    for name, value in record.headers:
        if name == "provider":
            return Provider(value.decode())
    raise ValueError("raw webhook has no provider header")


async def updates_from_delivery(
    record: ConsumerRecord[bytes, bytes], ctx: IngestContext
) -> list[EntitlementUpdate]:
    provider = provider_of(record)
    if provider is Provider.REVENUECAT:
        return await revenuecat_updates(record.value or b"", ctx)
    if provider is Provider.LIGHTNING:
        return await lightning_updates(record, ctx)
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
