"""What the ingest handlers share: settings, database sessions and each provider's connector."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.connectors.lightning.adapter import LightningAdapter
from shared.connectors.revenuecat.adapter import RevenueCatAdapter
from shared.settings import Settings


@dataclass(frozen=True)
class IngestContext:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    revenuecat: RevenueCatAdapter
    lightning: LightningAdapter
