"""The entitlement history table itself: append-only, and backfilled from the ledger by its migration."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from apps.stack.processes import create_session_database, drop_session_database
from shared.db.engine import create_engine, session_factory
from shared.db.entitlement_history import AsOf, user_entitlements_as_of
from shared.db.entitlements import apply_entitlement_update
from shared.db.migrate import alembic_config
from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.packs import MicroSaasPack
from shared.domain.provider import Provider
from tests.conftest import Stack, revenuecat_product_of
from tests.infra.own_database import database_url

pytestmark = pytest.mark.postgres
T0 = datetime(2030, 1, 1, tzinfo=UTC)


async def _history_of_one_purchase(stack: Stack, user_id: str, pack: MicroSaasPack) -> None:
    async with stack.sessions() as session, session.begin():
        await apply_entitlement_update(
            session,
            EntitlementUpdate(
                update_id=f"{user_id}:buy",
                provider=Provider.REVENUECAT,
                provider_event_type="TEST",
                user_id=user_id,
                provider_product_id=revenuecat_product_of(pack),
                purchase_reference="ref-1",
                status=EntitlementStatus.ACTIVE,
                occurred_at=T0,
                expires_at=T0 + timedelta(days=7),
            ),
            stack.topics.entitlements,
        )


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM entitlement_history WHERE user_id = :u",
        "UPDATE entitlement_history SET status = 'revoked' WHERE user_id = :u",
        "UPDATE entitlement_history SET occurred_at = occurred_at - interval '1 day' WHERE user_id = :u",
        "UPDATE entitlement_history SET user_id = 'someone-else' WHERE user_id = :u",
    ],
)
async def test_history_rows_cannot_be_deleted_or_rewritten(
    stack: Stack, user_id: str, subscription_pack: MicroSaasPack, statement: str
) -> None:
    await _history_of_one_purchase(stack, user_id, subscription_pack)
    with pytest.raises(DBAPIError, match="entitlement_history"):
        async with stack.sessions() as session, session.begin():
            await session.execute(text(statement), {"u": user_id})
    async with stack.sessions() as session:
        [held] = await user_entitlements_as_of(session, user_id, AsOf(T0 + timedelta(days=1)))
    assert held["status"] == "active"


async def test_migration_backfills_one_row_per_existing_ledger_row(run_id: str) -> None:
    name = f"billing_test_{run_id}_{uuid.uuid4().hex[:6]}"
    await create_session_database(name)
    engine = create_engine(database_url(name))
    try:
        config = alembic_config(database_url(name))
        await asyncio.to_thread(command.upgrade, config, "0008_idempotency_keys")
        pack_id, entitlement_id = uuid.uuid4(), uuid.uuid4()
        async with session_factory(engine)() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO billing_catalog (id, slug, display_name, description, feature_flags, "
                    "features, default_price, currency, billing_kind, visuals, is_active) VALUES "
                    "(:id, 'old-pack', 'Old', '', '{}', '[\"old.feature\"]', 100, 'USD', 'one_time', "
                    "'{}', true)"
                ),
                {"id": pack_id},
            )
            await session.execute(
                text(
                    "INSERT INTO user_entitlements (id, user_id, catalog_id, source_provider, "
                    "purchase_reference, status, activated_at, expires_at, last_event_at) VALUES "
                    "(:id, 'old-user', :pack, 'revenuecat', 'ref', 'active', :t, NULL, :t)"
                ),
                {"id": entitlement_id, "pack": pack_id, "t": T0},
            )

        await asyncio.to_thread(command.upgrade, config, "0009_history")

        async with session_factory(engine)() as session:
            before = await user_entitlements_as_of(session, "old-user", AsOf(T0 - timedelta(seconds=1)))
            [since] = await user_entitlements_as_of(session, "old-user", AsOf(T0))
        assert before == []
        assert (since["entitlement_id"], since["status"], since["pack_slug"]) == (
            str(entitlement_id),
            "active",
            "old-pack",
        )
    finally:
        await engine.dispose()
        await drop_session_database(name)
