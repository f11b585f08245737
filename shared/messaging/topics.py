"""Topic and consumer-group names, and their creation on the broker."""

import contextlib
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.settings import Settings


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
        # The audit chain's head, published outside the database (shared/security/audit_anchors.py).
        return f"{self.namespace}billing.audit.anchors"

    def group(self, service: str) -> str:
        return f"{self.namespace}billing-{service}"

    @staticmethod
    def dead_letters_of(topic: str) -> str:
        return f"{topic}.dlq"

    def all(self) -> list[str]:
        main = [
            self.webhooks_raw,
            self.entitlement_updates,
            self.entitlements,
            self.catalog_changes,
        ]
        return main + [self.dead_letters_of(t) for t in main] + [self.audit_anchors]


async def ensure_topics(settings: Settings) -> None:
    """Create every topic with the configured partition count (existing ones are kept)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, settings.kafka_partitions, 1)
            for name in Topics(settings.namespace).all()
            if name not in existing
        ]
        if wanted:
            # Another service starting at the same time may create them first.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
    finally:
        await admin.close()
