"""Topic and consumer-group names, and their creation on the broker.

Replication factor and ``min.insync.replicas`` come from settings (1/1 on one local broker, 3/2 in
the deploy manifests). Dead letters wait for a human, so DLQ topics keep their own retention
(``kafka_dead_letter_retention_ms``, default forever) instead of the broker's; an existing DLQ topic
is brought to it too.
"""

import contextlib
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError
from tenacity import retry, retry_if_result, stop_after_delay, wait_exponential

from shared.core_settings import CoreSettings

DESCRIBE_PATIENCE_S = 15.0


@dataclass(frozen=True)
class Topics:
    """Every topic the services use; ``namespace`` isolates parallel deployments and test runs."""

    namespace: str = ""

    @property
    def webhooks_raw(self) -> str:
        return f"{self.namespace}billing.webhooks.raw"

    @property
    def entitlement_updates(self) -> str:
        return f"{self.namespace}billing.entitlement-updates"

    @property
    def entitlements(self) -> str:
        return f"{self.namespace}billing.entitlements"

    @property
    def catalog_changes(self) -> str:
        return f"{self.namespace}billing.catalog.changes"

    @property
    def audit_anchors(self) -> str:
        # The audit chain's head, published outside the database (shared/messaging/audit_anchors.py).
        return f"{self.namespace}billing.audit.anchors"

    @property
    def telemetry(self) -> str:
        # Funnel telemetry (shared/messaging/telemetry.py): best effort, rolled up by services/telemetry.
        return f"{self.namespace}billing.telemetry"

    def group(self, service: str) -> str:
        return f"{self.namespace}billing-{service}"

    @staticmethod
    def dead_letters_of(topic: str) -> str:
        return f"{topic}.dlq"

    def main(self) -> list[str]:
        return [
            self.webhooks_raw,
            self.entitlement_updates,
            self.entitlements,
            self.catalog_changes,
            self.telemetry,
        ]

    def dead_letter_topics(self) -> list[str]:
        return [self.dead_letters_of(t) for t in self.main()]

    def all(self) -> list[str]:
        # The audit chain's anchors are kept as long as dead letters: they prove the log's head.
        return self.main() + self.long_lived()

    def long_lived(self) -> list[str]:
        return [*self.dead_letter_topics(), self.audit_anchors]


async def _describe_all(
    admin: AIOKafkaAdminClient, names: list[str], keys: list[str]
) -> dict[str, dict[str, str]]:
    """Like ``describe_topic_configs``, but waits a little for topics the broker lists yet cannot describe.

    A topic created a moment ago reaches the broker's config view through its metadata log a little
    later; skipping it would leave a 24 h dead-letter topic unaligned until the next start.
    """
    describe = retry(
        retry=retry_if_result(lambda described: set(described) != set(names)),
        stop=stop_after_delay(DESCRIBE_PATIENCE_S),
        wait=wait_exponential(multiplier=0.05, max=1.0),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else {},
    )(describe_topic_configs)
    described: dict[str, dict[str, str]] = await describe(admin, names, keys)
    return described


def topic_configs(settings: CoreSettings, *, long_lived: bool) -> dict[str, str]:
    configs = {"min.insync.replicas": str(settings.kafka_min_insync_replicas)}
    if long_lived:
        configs["retention.ms"] = str(settings.kafka_dead_letter_retention_ms)
    return configs


async def ensure_topics(settings: CoreSettings) -> None:
    """Create every topic with the configured partitions and replication (existing ones are kept)."""
    topics = Topics(settings.namespace)
    long_lived = set(topics.long_lived())
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name,
                settings.kafka_partitions,
                settings.kafka_replication_factor,
                topic_configs=topic_configs(settings, long_lived=name in long_lived),
            )
            for name in topics.all()
            if name not in existing
        ]
        if wanted:
            # Another service starting at the same time may create them first.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
        await _align_long_lived_configs(admin, settings, sorted(long_lived))
    finally:
        await admin.close()


async def _align_long_lived_configs(
    admin: AIOKafkaAdminClient, settings: CoreSettings, names: list[str]
) -> None:
    """Existing DLQ and anchor topics (created with the broker's 24 h retention, say) get our configs."""
    wanted = topic_configs(settings, long_lived=True)
    current = await _describe_all(admin, names, list(wanted))
    stale = [name for name in names if name in current and current[name] != wanted]
    if stale:
        # AlterConfigs replaces a topic's overrides: send every one we own, nothing else is set.
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, wanted) for name in stale])


async def describe_topic_configs(
    admin: AIOKafkaAdminClient, names: list[str], keys: list[str]
) -> dict[str, dict[str, str]]:
    """``keys`` of each topic's effective configuration (topics the broker cannot describe are left out)."""
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, dict.fromkeys(keys)) for name in names]
    configs: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for error_code, _message, _type, name, entries in response.resources:
            if error_code == 0:
                configs[name] = {entry[0]: entry[1] for entry in entries}
    return configs
