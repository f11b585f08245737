"""Tables the catalog adds to the seed's: bundles, which file manages a pack, sync reports."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base


class BundleItem(Base):
    """One child pack of a bundle (composite pack); ``position`` keeps the authored order."""

    __tablename__ = "billing_bundle_items"

    bundle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_catalog.id"), primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("billing_catalog.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)


class BundlePricing(Base):
    """Marks a pack as a bundle and keeps the prices its author set; missing ones are its children's sum."""

    __tablename__ = "billing_bundles"

    catalog_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_catalog.id"), primary_key=True)
    own_price: Mapped[int | None] = mapped_column(BigInteger)  # minor units of the pack's currency
    # {provider: {"price": minor units, "currency": ISO 4217}} for provider prices set by the author
    own_provider_prices: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)


class CatalogFileMembership(Base):
    """Which catalog file manages a pack: applying that file again deactivates packs it dropped."""

    __tablename__ = "billing_catalog_files"

    catalog_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_catalog.id"), primary_key=True)
    catalog_name: Mapped[str] = mapped_column(String(100), nullable=False, index=True)


class CatalogSyncReport(Base):
    """One reconciliation of our catalog with one provider's: what differed, was pushed, failed."""

    __tablename__ = "catalog_sync_reports"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    trigger: Mapped[str] = mapped_column(String(20), nullable=False)  # schedule | change | manual
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # in_sync | synced | partial | failed
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
    )
    differences: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, default=list)
    pushed: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, default=list)
    failed: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, default=list)
    error: Mapped[str | None] = mapped_column(Text)
