"""Handler: one entitlement update becomes a ledger change and an outbox row, in one transaction."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.entitlements import apply_entitlement_update
from shared.domain.entitlements import EntitlementEventType, EntitlementUpdate


async def apply_update_message(
    sessions: async_sessionmaker[AsyncSession], value: bytes, entitlements_topic: str
) -> EntitlementEventType | None:
    update = EntitlementUpdate.model_validate_json(value)
    async with sessions() as session, session.begin():
        return await apply_entitlement_update(session, update, entitlements_topic)
