"""How Lightning deliveries enter the pipeline: one raw record on ``billing.webhooks.raw`` each,
whether it came as a webhook, an NWC notification or a poll. Kafka keys are stable per delivery."""

import time

from aiohttp import web
from aiokafka import AIOKafkaProducer

from services.gateway.context import GATEWAY
from shared.connectors.lightning.adapter import LightningAdapter
from shared.domain.provider import Provider


async def publish_raw_delivery(
    producer: AIOKafkaProducer, topic: str, *, source: str, delivery_id: str, body: bytes
) -> None:
    """Returns once Kafka acknowledged the record (acks=all, idempotent producer)."""
    await producer.send_and_wait(
        topic,
        value=body,
        key=f"lightning:{source}:{delivery_id}".encode(),
        headers=[
            ("provider", Provider.LIGHTNING.value.encode()),
            ("lightning-source", source.encode()),
            ("delivery-id", delivery_id.encode()),
            ("received-at-ms", str(int(time.time() * 1000)).encode()),
        ],
    )


def lightning_adapter(app: web.Application) -> LightningAdapter | None:
    connector = app[GATEWAY].connectors.get(Provider.LIGHTNING)
    return connector if isinstance(connector, LightningAdapter) else None
