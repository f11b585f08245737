"""An operator's revocation of one entitlement, by its id: the provider's ``revoke_entitlement``
proposes it on the user's partition (the worker applies it, announcing ``entitlement.revoked``),
and the request is audited with who asked and why. Used by the admin API and ``billing entitlements
revoke``; never a direct ledger write.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.connectors.base import BillingConnector
from shared.db.audit_log import append_audit
from shared.db.models import UserEntitlement
from shared.db.unit_of_work import unit_of_work
from shared.domain.audit import AuditEntry, user_subject
from shared.domain.provider import Provider


class ProviderNotConfigured(LookupError):
    """The entitlement's provider has no connector in this process."""


@dataclass(frozen=True)
class RevocationRequested:
    entitlement_id: uuid.UUID
    user_id: str
    provider: Provider
    purchase_reference: str


async def revoke_entitlement_by_id(
    sessions: async_sessionmaker[AsyncSession],
    connectors: Mapping[Provider, BillingConnector],
    entitlement_id: uuid.UUID,
    reason: str,
    actor: str,
) -> RevocationRequested:
    """Propose the revocation; ``LookupError`` if no such entitlement, ``ProviderNotConfigured``."""
    async with sessions() as session:
        row = await session.scalar(select(UserEntitlement).where(UserEntitlement.id == entitlement_id))
    if row is None:
        raise LookupError(f"no entitlement {entitlement_id}")
    provider = Provider(row.source_provider)
    connector = connectors.get(provider)
    if connector is None:
        raise ProviderNotConfigured(f"{provider.value} is not configured")
    # Audited before it is proposed: a revocation can never be in effect without its audit row (a
    # process dying between the two leaves an audited request that did not happen, never the reverse).
    async with unit_of_work(sessions) as session:
        await append_audit(
            session,
            AuditEntry(
                actor=actor,
                event="entitlement.revoke_requested",
                subject=user_subject(row.user_id),
                details={"entitlement_id": str(row.id), "provider": provider.value, "reason": reason},
            ),
        )
    await connector.revoke_entitlement(row.user_id, row.purchase_reference, reason)
    return RevocationRequested(row.id, row.user_id, provider, row.purchase_reference)
