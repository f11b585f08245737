"""The one way we produce to Kafka: acks from all replicas, idempotent."""

from aiokafka import AIOKafkaProducer

from shared.core_settings import CoreSettings


def create_producer(settings: CoreSettings, *, linger_ms: int = 0) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
    )
