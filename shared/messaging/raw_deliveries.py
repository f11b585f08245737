"""The raw provider delivery on ``billing.webhooks.raw``: its typed form, its headers, its one publisher.

The body stays the provider's bytes, untouched (signatures were checked on them); what we know about
the delivery travels in headers. The Kafka key is stable per delivery, so a provider's retry of one
delivery lands on the partition of the first.
"""

import time

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, ConfigDict

from shared.domain.provider import Provider
from shared.observability.request_ids import request_id_headers
from shared.observability.tracing import producing


class RawDeliveryHeader:
    PROVIDER = "provider"
    SOURCE = "delivery-source"  # which of a provider's channels (lightning: btcpay, alby, nwc, poll)
    DELIVERY_ID = "delivery-id"
    RECEIVED_AT_MS = "received-at-ms"


class RawDelivery(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: Provider
    delivery_id: str
    body: bytes
    source: str | None = None
    received_at_ms: int | None = None

    @property
    def key(self) -> bytes:
        parts = [self.provider.value, *([self.source] if self.source else []), self.delivery_id]
        return ":".join(parts).encode()


async def publish_raw_delivery(producer: AIOKafkaProducer, topic: str, delivery: RawDelivery) -> None:
    """Returns once Kafka acknowledged the record (acks=all, idempotent producer)."""
    received_at_ms = delivery.received_at_ms or int(time.time() * 1000)
    headers = [
        (RawDeliveryHeader.PROVIDER, delivery.provider.value.encode()),
        (RawDeliveryHeader.DELIVERY_ID, delivery.delivery_id.encode()),
        (RawDeliveryHeader.RECEIVED_AT_MS, str(received_at_ms).encode()),
    ]
    if delivery.source:
        headers.append((RawDeliveryHeader.SOURCE, delivery.source.encode()))
    with producing(topic) as trace_headers:
        headers += [*trace_headers, *request_id_headers()]
        await producer.send_and_wait(topic, value=delivery.body, key=delivery.key, headers=headers)


def provider_named_by(record: ConsumerRecord[bytes, bytes]) -> Provider | None:
    """The configured provider a record's header names; None when it names none we know."""
    for name, value in record.headers:
        if name == RawDeliveryHeader.PROVIDER:
            try:
                return Provider(bytes(value).decode())
            except ValueError:
                return None
    return None


def raw_delivery_of(record: ConsumerRecord[bytes, bytes]) -> RawDelivery:
    """The typed delivery behind a consumed record; ``ValueError`` when it is not one of ours."""
    headers = {name: bytes(value).decode() for name, value in record.headers}
    provider = headers.get(RawDeliveryHeader.PROVIDER)
    if provider is None:
        raise ValueError("raw delivery has no provider header")
    received_at = headers.get(RawDeliveryHeader.RECEIVED_AT_MS)
    return RawDelivery(
        provider=Provider(provider),
        delivery_id=headers.get(RawDeliveryHeader.DELIVERY_ID, ""),
        body=record.value or b"",
        source=headers.get(RawDeliveryHeader.SOURCE),
        received_at_ms=int(received_at) if received_at else None,
    )
