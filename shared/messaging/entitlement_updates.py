"""The one publisher of ``billing.entitlement-updates``: keyed by user id, so one user's updates keep
their order on one partition, whoever proposes them (ingest, a revocation, the expiry sweep)."""

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from shared.domain.entitlements import EntitlementUpdate

CONTENT_TYPE_JSON = ("content-type", b"application/json")


class EntitlementUpdatePublisher:
    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def publish(self, updates: Sequence[EntitlementUpdate]) -> None:
        """Send every update, then await every ack (the caller commits its own input after this)."""
        deliveries = [
            await self._producer.send(
                self._topic,
                value=update.model_dump_json(by_alias=False).encode(),
                key=update.user_id.encode(),
                headers=[CONTENT_TYPE_JSON],
            )
            for update in updates
        ]
        for delivery in deliveries:
            await delivery
