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

# Operations (issue 14 §5): what docs/runbook.md, deploy/prometheus/alerts.yaml and the Grafana board read.
WEBHOOK_ACCEPT_SECONDS = Histogram(
    "billing_webhook_accept_seconds",
    "Gateway time from a provider's webhook request to its answer (durably on Kafka when accepted)",
    ["provider", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CHECKOUTS = Counter(
    "billing_checkouts_total",
    "Checkout requests by provider and outcome (created, or the error code answered)",
    ["provider", "outcome"],
)
PROVIDER_CALL_SECONDS = Histogram(
    "billing_provider_call_seconds",
    "One call to an outside provider (each retry counts), until its answer or failure",
    ["provider", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
PROVIDER_CALL_ERRORS = Counter(
    "billing_provider_call_errors_total",
    "Provider calls that failed: unreachable, server_error (5xx), rate_limited (429), rejected (other 4xx)",
    ["provider", "method", "kind"],
)
PROVIDER_READS_COALESCED = Counter(
    "billing_provider_reads_coalesced_total",
    "Deliveries confirmed by a provider read already made after they arrived (no read of their own)",
    ["provider"],
)
CONSUMER_LAG = Gauge(
    "billing_consumer_lag_messages",
    "Messages on a partition not yet committed by a consumer group (end offset - committed offset)",
    ["group", "topic", "partition"],
)
DEAD_LETTER_DEPTH = Gauge(
    "billing_dead_letter_depth",
    "Dead letters waiting for a replay (`billing dlq replay`), per original topic",
    ["topic"],
)
OUTBOX_BACKLOG_ROWS = Gauge("billing_outbox_backlog_rows", "Outbox rows not yet published to Kafka")
OUTBOX_OLDEST_AGE_SECONDS = Gauge(
    "billing_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0 when none waits)"
)
SECRET_AGE_SECONDS = Gauge(
    "billing_secret_age_seconds",
    "Time since a secret's current value was made current (secrets with a known rotation time)",
    ["secret"],
)
SECRET_MAX_AGE_SECONDS = Gauge(
    "billing_secret_max_age_seconds", "The rotation policy: the age a secret should never reach", ["secret"]
)
SECRET_AGE_UNKNOWN = Gauge(
    "billing_secret_age_unknown",
    "1 for a configured secret whose value came from the environment (its age is your secret manager's)",
    ["secret"],
)
COLLECTOR_FAILURES = Counter(
    "billing_metrics_collector_failures_total",
    "Refreshes of a backlog gauge that failed (the gauge keeps its last value)",
    ["collector"],
)
COLLECTOR_LAST_SUCCESS = Gauge(
    "billing_metrics_collector_last_success_timestamp_seconds",
    "Unix time of a backlog collector's last successful refresh (stale gauges show here)",
    ["collector"],
)
