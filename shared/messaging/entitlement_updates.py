"""The one publisher of ``billing.entitlement-updates``: keyed by user id, so one user's updates keep
their order on one partition, whoever proposes them (ingest, a revocation, the expiry sweep)."""

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from shared.domain.entitlements import EntitlementUpdate
from shared.observability.request_ids import request_id_headers
from shared.observability.tracing import producing

CONTENT_TYPE_JSON = ("content-type", b"application/json")


class EntitlementUpdatePublisher:
    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def publish(self, updates: Sequence[EntitlementUpdate]) -> None:
        """Send every update, then await every ack (the caller commits its own input after this)."""
        deliveries = []
        for update in updates:
            # The span covers the hand-over to the producer; each record carries the caller's trace.
            with producing(self._topic) as trace_headers:
                deliveries.append(
                    await self._producer.send(
                        self._topic,
                        value=update.model_dump_json(by_alias=False).encode(),
                        key=update.user_id.encode(),
                        headers=[CONTENT_TYPE_JSON, *trace_headers, *request_id_headers()],
                    )
                )
        for delivery in deliveries:
            await delivery
