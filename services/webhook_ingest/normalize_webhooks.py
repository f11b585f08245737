"""Handler: a raw provider delivery becomes entitlement updates on the updates topic.

Dispatch is on the ``provider`` header the gateway set, to that provider's plugin.
"""

from aiokafka.structs import ConsumerRecord

from services.webhook_ingest.context import IngestContext
from shared.domain.entitlements import EntitlementUpdate
from shared.messaging.raw_deliveries import raw_delivery_of


async def updates_from_delivery(
    record: ConsumerRecord[bytes, bytes], ctx: IngestContext
) -> list[EntitlementUpdate]:
    delivery = raw_delivery_of(record)
    runtime = ctx.runtime
    plugin = runtime.providers.get(delivery.provider)
    if plugin is None:
        raise ValueError(f"provider {delivery.provider.value} is not configured here")
    connector = runtime.connectors[delivery.provider]
    return await plugin.updates_from_delivery(delivery, connector, runtime.provider_resources)
