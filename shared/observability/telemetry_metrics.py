"""Prometheus counters of the telemetry bus (shared/messaging/telemetry.py, services/telemetry/)."""

from prometheus_client import Counter

TELEMETRY_EMITTED = Counter(
    "billing_telemetry_emitted_total", "Telemetry events acknowledged by Kafka", ["type"]
)
TELEMETRY_DROPPED = Counter(
    "billing_telemetry_dropped_total",
    "Telemetry events dropped (Kafka down or slow, too many waiting, no pseudonym key)",
    ["type", "reason"],
)
TELEMETRY_ROLLED_UP = Counter(
    "billing_telemetry_rolled_up_total",
    "Events the telemetry consumer counted (redeliveries excluded)",
    ["type"],
)
