"""Prometheus metrics shared by the services (gateway: ``/metrics``; consumers: ``metrics_port``)."""

from prometheus_client import Counter, Gauge, Histogram

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
GATEWAY_DEPENDENCY_UNAVAILABLE = Counter(
    "billing_gateway_dependency_unavailable_total",
    "Gateway requests answered 503 because a dependency was down",
    ["dependency"],
)
RATE_LIMIT_UNENFORCED = Counter(
    "billing_rate_limit_unenforced_total", "API requests let through unlimited because Redis was down"
)
FEATURE_CACHE_BYPASSED = Counter(
    "billing_feature_cache_bypassed_total", "Feature grants read from Postgres because Redis failed"
)
MESSAGE_RETRIES = Counter(
    "billing_message_retries_total",
    "Processing retries by consumers, by failure kind (transient ones retry until they pass)",
    ["topic", "failure"],
)
LEDGER_DRIFT = Gauge(
    "billing_ledger_drift",
    "Entitlements where the ledger and the provider disagree, from the last scheduled reconcile",
    ["provider", "kind"],
)
