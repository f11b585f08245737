"""SQLAlchemy tables: the seed's catalog and entitlement tables plus processed events and outbox."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class BillingCatalog(Base):
    __tablename__ = "billing_catalog"

    id: Mapped[uuid.UUID] = _uuid_pk()
    slug: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    feature_flags: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    features: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    default_price: Mapped[int] = mapped_column(BigInteger, nullable=False)  # minor units
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    billing_kind: Mapped[str] = mapped_column(String(20), nullable=False, default="one_time")
    billing_period: Mapped[str | None] = mapped_column(String(20))  # ISO 8601 duration
    visuals: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class BillingCatalogProvider(Base):
    __tablename__ = "billing_catalog_provider"
    __table_args__ = (UniqueConstraint("provider", "provider_product_id"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    catalog_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("billing_catalog.id"), nullable=False, index=True
    )
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    provider_product_id: Mapped[str] = mapped_column(String(200), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    price: Mapped[int] = mapped_column(BigInteger, nullable=False)  # minor units (msat for BTC)
    provider_ids: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)


class UserEntitlement(Base):
    __tablename__ = "user_entitlements"
    __table_args__ = (UniqueConstraint("user_id", "catalog_id", "source_provider", "purchase_reference"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    catalog_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_catalog.id"), nullable=False)
    source_provider: Mapped[str] = mapped_column(String(20), nullable=False)
    purchase_reference: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Provider time of the newest update applied: older updates never overwrite newer state.
    last_event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = _now()


class ProcessedEvent(Base):
    """One row per provider event applied, written in the same transaction as its effect."""

    __tablename__ = "processed_events"

    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    provider_event_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    processed_at: Mapped[datetime] = _now()


class Outbox(Base):
    """Events to publish, written with the change they announce; ``seq`` keeps their order."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_unpublished_seq", "seq", postgresql_where=text("published_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True, nullable=False)
    topic: Mapped[str] = mapped_column(String(200), nullable=False)
    key: Mapped[str] = mapped_column(String(300), nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = _now()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # W3C trace context of the writing transaction (null when tracing is off): the relay's publish joins it.
    traceparent: Mapped[str | None] = mapped_column(String(55))


class CheckoutSessionRecord(Base):
    """A checkout handed to a client; ``purchase_reference`` links it to the settlement."""

    __tablename__ = "checkout_sessions"

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    catalog_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("billing_catalog.id"), nullable=False)
    provider: Mapped[str] = mapped_column(String(20), nullable=False)
    purchase_reference: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # open | completed | expired
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    created_at: Mapped[datetime] = _now()


class IdempotencyKeyRecord(Base):
    """An ``Idempotency-Key`` claimed by one API key; ``status`` stays null until it is answered."""

    __tablename__ = "idempotency_keys"

    api_key_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)  # sha256 of the request body
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _now()
