"""Handler: entitlement updates become ledger changes and outbox rows, one transaction per call."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.entitlements import apply_entitlement_update, apply_entitlement_updates
from shared.db.unit_of_work import unit_of_work
from shared.domain.entitlements import EntitlementEventType, EntitlementUpdate


async def apply_update_message(
    sessions: async_sessionmaker[AsyncSession], value: bytes, entitlements_topic: str
) -> EntitlementEventType | None:
    update = EntitlementUpdate.model_validate_json(value)
    async with unit_of_work(sessions) as session:
        return await apply_entitlement_update(session, update, entitlements_topic)


async def apply_update_batch(
    sessions: async_sessionmaker[AsyncSession], values: Sequence[bytes], entitlements_topic: str
) -> bool:
    """Apply the updates in order in one transaction (any error rolls back all); True if any announced.

    The ledger decides the whole batch in memory and writes it with one statement per table.
    """
    updates = [EntitlementUpdate.model_validate_json(value) for value in values]
    async with unit_of_work(sessions) as session:
        announced = await apply_entitlement_updates(session, updates, entitlements_topic)
    return any(event is not None for event in announced)
