"""The sealed audit chain against the real Postgres and Kafka: `billing audit verify` finds an edited,
inserted or deleted sealed row — including the newest ones, through the head anchored on Kafka —
and the sealer chains rows that commit out of id order without skipping one.

Each test has a database and anchor topic of its own: tampering needs the guard trigger switched
off, which must never touch the session's shared audit log.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from apps.stack.processes import create_session_database, drop_session_database, session_settings
from shared.db.audit_log import append_audit
from shared.db.engine import create_engine, session_factory
from shared.db.migrate import upgrade_to_heads
from shared.domain.audit import AuditEntry, ChainHead, chain_hash, details_digest
from shared.messaging.audit_anchors import publish_anchor
from shared.messaging.producer import create_producer
from shared.messaging.topics import Topics
from shared.security.audit_chain import seal_pending
from shared.settings import Settings
from tests.infra.security import billing_cli

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

GUARD_OFF = "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"


@dataclass(frozen=True)
class AuditDatabase:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    producer: AIOKafkaProducer

    async def append(self, count: int) -> list[int]:
        seqs = []
        for n in range(count):
            async with self.sessions() as session, session.begin():
                entry = AuditEntry("test:tamper", "test.appended", f"test:{n}", {"n": n})
                seqs.append(await append_audit(session, entry))
        return seqs

    async def seal(self) -> ChainHead:
        async with self.sessions() as session, session.begin():
            sealed = await seal_pending(session)
        assert sealed is not None
        return sealed[0]

    async def seal_and_anchor(self) -> ChainHead:
        head = await self.seal()
        await publish_anchor(self.producer, Topics(self.settings.namespace).audit_anchors, head)
        return head

    async def tamper(self, *statements: str, **params: object) -> None:
        """Run ``statements`` as an attacker with owner rights would: guard trigger off."""
        async with self.sessions() as session, session.begin():
            await session.execute(text(GUARD_OFF))
            for statement in statements:
                await session.execute(text(statement), params)

    def verify(self) -> tuple[int, str]:
        verified = billing_cli(self.settings, "audit", "verify")
        return verified.returncode, verified.stdout + verified.stderr


@pytest.fixture
async def audit_db(infrastructure: None, run_id: str) -> AsyncIterator[AuditDatabase]:
    own = uuid.uuid4().hex[:8]
    database = f"billing_test_{run_id}_audit_{own}"
    base = session_settings(run_id)
    settings = base.with_values(
        **{
            "database_url": base.database_url.rsplit("/", 1)[0] + f"/{database}",
            "namespace": f"{base.namespace}audit-{own}.",
        }
    )
    await create_session_database(database)
    await asyncio.to_thread(upgrade_to_heads, settings.database_url)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(Topics(settings.namespace).audit_anchors, 1, 1)])
    await admin.close()
    engine = create_engine(settings.database_url)
    producer = create_producer(settings)
    await producer.start()
    try:
        yield AuditDatabase(settings, session_factory(engine), producer)
    finally:
        await producer.stop()
        await engine.dispose()
        await drop_session_database(database)


async def test_untouched_sealed_and_anchored_chain_verifies(audit_db: AuditDatabase) -> None:
    await audit_db.append(5)
    head = await audit_db.seal_and_anchor()
    await audit_db.append(2)  # not sealed yet: checked by their digests, counted as pending

    code, output = audit_db.verify()

    assert code == 0, output
    assert (
        f"audit chain intact: 5 rows, head {head.row_hash}, anchored at position 5, 2 not sealed yet"
        in output
    )


async def test_edited_sealed_row_is_detected(audit_db: AuditDatabase) -> None:
    seqs = await audit_db.append(5)
    await audit_db.seal_and_anchor()

    await audit_db.tamper("UPDATE audit_log SET event = 'test.forged' WHERE seq = :s", s=seqs[2])

    code, output = audit_db.verify()
    assert code == 1
    assert f"BROKEN at seq {seqs[2]}: row_hash does not match the row's fields" in output


async def test_row_inserted_into_the_sealed_chain_is_detected(audit_db: AuditDatabase) -> None:
    seqs = await audit_db.append(5)
    await audit_db.seal_and_anchor()

    # A forged row at position 3, hashed correctly onto position 2; the rows after it move up one.
    async with audit_db.sessions() as session:
        prev = (
            await session.execute(text("SELECT row_hash FROM audit_log WHERE chain_pos = 2"))
        ).scalar_one()
    seq, digest, at = seqs[-1] + 100, details_digest(None), datetime(2026, 11, 30, 12, tzinfo=UTC)
    forged = chain_hash(prev, seq, at, "test:tamper", "test.forged", digest, digest)
    await audit_db.tamper(
        "UPDATE audit_log SET chain_pos = chain_pos + 1000 WHERE chain_pos >= 3",
        "UPDATE audit_log SET chain_pos = chain_pos - 999 WHERE chain_pos >= 1000",
        "INSERT INTO audit_log (seq, occurred_at, actor, event, subject, subject_digest, details_digest, "
        "chain_pos, prev_hash, row_hash) VALUES (:seq, :at, 'test:tamper', 'test.forged', 'erased:x', "
        ":digest, :digest, 3, :prev, :forged)",
        seq=seq,
        at=at,
        digest=digest,
        prev=prev,
        forged=forged,
    )

    code, output = audit_db.verify()
    assert code == 1
    assert f"BROKEN at seq {seqs[2]}: prev_hash does not match the previous row" in output


async def test_row_deleted_from_the_middle_is_detected(audit_db: AuditDatabase) -> None:
    seqs = await audit_db.append(5)
    await audit_db.seal_and_anchor()

    await audit_db.tamper("DELETE FROM audit_log WHERE seq = :s", s=seqs[2])

    code, output = audit_db.verify()
    assert code == 1
    assert f"BROKEN at seq {seqs[3]}: chain position 3 is missing (a sealed row was removed)" in output


async def test_newest_sealed_rows_deleted_are_detected_by_the_anchor(audit_db: AuditDatabase) -> None:
    seqs = await audit_db.append(5)
    await audit_db.seal_and_anchor()

    # What is left is an intact chain of 3 rows: only the anchor outside the database tells.
    await audit_db.tamper("DELETE FROM audit_log WHERE seq >= :s", s=seqs[3])

    code, output = audit_db.verify()
    assert code == 1
    assert "the chain ends at position 3 but the anchor published at" in output
    assert "names position 5 (sealed rows were removed)" in output


async def test_chain_rewritten_after_an_edit_is_detected_by_the_anchor(audit_db: AuditDatabase) -> None:
    seqs = await audit_db.append(4)
    await audit_db.seal_and_anchor()

    # The attacker edits row 2 and re-seals everything from it onwards with the public algorithm.
    await audit_db.tamper(
        "UPDATE audit_log SET event = 'test.forged' WHERE seq = :s",
        "UPDATE audit_log SET chain_pos = NULL, prev_hash = NULL, row_hash = NULL WHERE chain_pos >= 2",
        s=seqs[1],
    )
    await audit_db.seal()

    code, output = audit_db.verify()
    assert code == 1
    assert "position 4 no longer has the anchored hash (the chain was rewritten)" in output


async def test_row_committed_after_a_higher_id_was_sealed_is_sealed_next(audit_db: AuditDatabase) -> None:
    async with audit_db.sessions() as late, late.begin():
        late_seq = await append_audit(late, AuditEntry("test:tamper", "test.late", "test:late"))
        early_seqs = await audit_db.append(2)  # higher ids, committed first
        await audit_db.seal()
    head = await audit_db.seal_and_anchor()

    async with audit_db.sessions() as session:
        order = (await session.execute(text("SELECT seq FROM audit_log ORDER BY chain_pos"))).scalars().all()
    assert late_seq < early_seqs[0]
    assert list(order) == [*early_seqs, late_seq]
    assert head.position == 3
    code, output = audit_db.verify()
    assert code == 0, output


async def test_a_second_sealer_skips_its_round_while_one_is_sealing(audit_db: AuditDatabase) -> None:
    await audit_db.append(1)
    async with audit_db.sessions() as first, first.begin():
        assert await seal_pending(first) is not None
        async with audit_db.sessions() as second, second.begin():
            assert await seal_pending(second) is None
