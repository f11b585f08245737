"""The retention job deletes spent rows — published outbox rows, old dedupe claims, day-old
idempotency keys — and nothing that still has a job (an unpublished row, a recent claim)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from shared.connectors.lightning.tables import LightningDelivery
from shared.connectors.registry import provider_dedupe_rows
from shared.db.models import Outbox, ProcessedEvent
from shared.db.pruning import SpentRowRetention, prune_spent_rows
from shared.db.telemetry_models import TelemetryLatencyPair, TelemetryProcessedEvent
from tests.conftest import Stack

pytestmark = pytest.mark.postgres
RETENTION = SpentRowRetention(outbox=7, processed_events=180, idempotency_keys=2)


async def test_spent_rows_go_and_rows_with_a_job_stay(stack: Stack) -> None:
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=200), now - timedelta(days=1)
    tag = uuid.uuid4().hex[:10]
    async with stack.sessions() as session, session.begin():
        outbox = {
            name: Outbox(
                id=uuid.uuid4(),
                topic="t",
                key=f"prune-{tag}",
                event_type="e",
                payload={},
                created_at=old,
                published_at=published,
            )
            for name, published in [("spent", old), ("unpublished", None), ("fresh", recent)]
        }
        session.add_all(outbox.values())
        session.add_all(
            [
                ProcessedEvent(provider="revenuecat", provider_event_id=f"old-{tag}", processed_at=old),
                ProcessedEvent(provider="revenuecat", provider_event_id=f"new-{tag}", processed_at=recent),
            ]
        )
        api_key = uuid.uuid4()
        for key_hash, created in [("old", old), ("new", now)]:
            await session.execute(
                text(
                    "INSERT INTO idempotency_keys (api_key_id, key_hash, fingerprint, created_at)"
                    " VALUES (:k, :h, 'f', :c)"
                ),
                {"k": api_key, "h": key_hash, "c": created},
            )
        await session.flush()

        deleted = await prune_spent_rows(session, RETENTION, now)

        kept_outbox = set(
            (await session.execute(select(Outbox.id).where(Outbox.key == f"prune-{tag}"))).scalars()
        )
        assert kept_outbox == {outbox["unpublished"].id, outbox["fresh"].id}
        claims = set(
            (
                await session.execute(
                    select(ProcessedEvent.provider_event_id).where(
                        ProcessedEvent.provider_event_id.endswith(tag)
                    )
                )
            ).scalars()
        )
        assert claims == {f"new-{tag}"}
        assert deleted["outbox (deleted)"] >= 1 and deleted["processed_events (deleted)"] >= 1
        keys = await session.execute(
            text("SELECT key_hash FROM idempotency_keys WHERE api_key_id = :k"), {"k": api_key}
        )
        assert set(keys.scalars()) == {"new"}
        await session.rollback()  # leave the session's database as it was


async def test_a_providers_dedupe_rows_age_out_with_processed_events(stack: Stack) -> None:
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:10]
    retention = SpentRowRetention(
        outbox=7, processed_events=180, idempotency_keys=2, provider_dedupe=provider_dedupe_rows()
    )
    async with stack.sessions() as session, session.begin():
        session.add_all(
            LightningDelivery(
                dedupe_key=f"{age}-{tag}",
                source="btcpay",
                event_type="InvoiceSettled",
                outcome="applied",
                received_at=now - timedelta(days=days),
            )
            for age, days in [("old", 200), ("new", 1)]
        )
        await session.flush()

        deleted = await prune_spent_rows(session, retention, now)

        kept = await session.execute(
            select(LightningDelivery.dedupe_key).where(LightningDelivery.dedupe_key.endswith(tag))
        )
        assert set(kept.scalars()) == {f"new-{tag}"}
        assert deleted["lightning_deliveries (deleted)"] >= 1
        await session.rollback()


async def test_the_telemetry_consumers_claims_and_latency_pairs_age_out_with_processed_events(
    stack: Stack,
) -> None:
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:10]
    old, recent = now - timedelta(days=200), now - timedelta(days=1)
    async with stack.sessions() as session, session.begin():
        session.add_all(
            TelemetryProcessedEvent(event_key=f"telemetry:{age}-{tag}", processed_at=at)
            for age, at in [("old", old), ("new", recent)]
        )
        session.add_all(
            [  # aged by the half seen last: an old arrival whose entitlement committed recently stays
                TelemetryLatencyPair(update_key=f"old-{tag}", provider="lightning", received_at=old),
                TelemetryLatencyPair(
                    update_key=f"late-{tag}", provider="lightning", received_at=old, committed_at=recent
                ),
            ]
        )
        await session.flush()

        deleted = await prune_spent_rows(session, RETENTION, now)

        claims = await session.execute(
            select(TelemetryProcessedEvent.event_key).where(TelemetryProcessedEvent.event_key.endswith(tag))
        )
        assert set(claims.scalars()) == {f"telemetry:new-{tag}"}
        pairs = await session.execute(
            select(TelemetryLatencyPair.update_key).where(TelemetryLatencyPair.update_key.endswith(tag))
        )
        assert set(pairs.scalars()) == {f"late-{tag}"}
        assert deleted["telemetry_processed_events (deleted)"] >= 1
        assert deleted["telemetry_latency_pairs (deleted)"] >= 1
        await session.rollback()
