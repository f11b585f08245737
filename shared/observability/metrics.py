"""Prometheus metrics shared by the services (gateway: ``/metrics``; consumers: ``metrics_port``)."""

from prometheus_client import Counter, Histogram

WEBHOOKS_RECEIVED = Counter(
    "billing_webhooks_received_total", "Provider webhooks received by the gateway", ["provider", "outcome"]
)
MESSAGES_PROCESSED = Counter(
    "billing_messages_processed_total", "Kafka messages handled by a consumer", ["topic", "outcome"]
)
PROCESSING_SECONDS = Histogram(
    "billing_message_processing_seconds", "Time to handle one Kafka message, retries included", ["topic"]
)
OUTBOX_PUBLISHED = Counter("billing_outbox_published_total", "Entitlement events relayed to Kafka")
MESSAGE_RETRIES = Counter(
    "billing_message_retries_total",
    "Processing retries by consumers, by failure kind (transient ones retry until they pass)",
    ["topic", "failure"],
)
