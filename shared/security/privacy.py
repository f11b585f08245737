"""GDPR: export everything we hold on a user; erase it (delete, or pseudonymise what accounting needs).

Table and column names come only from the ``PersonalDataMap``; user input is always a bound parameter.
Kafka topics are not rewritten (see docs/security.md); the audit log keeps its rows, with the
subject replaced by the pseudonym and the details purged, so the hash chain still verifies.
"""

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.audit_log import append_audit
from shared.db.ledger_writes import erased_event_id_sql
from shared.db.pruning import table_exists
from shared.db.security_models import ErasureRecord
from shared.domain.audit import ERASED_PREFIX, AuditEntry, user_subject
from shared.security.personal_data import Erasure, PersonalDataMap, PersonalDataTable


def _match(spec: PersonalDataTable) -> str:
    """WHERE clause: the user column is one of :ids, or a JSON column holds one of them as a value."""
    conditions = [f"t.{spec.user_column} = ANY(:ids)"] if spec.user_column else []
    conditions += [
        "EXISTS (SELECT 1 FROM unnest(CAST(:ids AS text[])) AS u(id) "  # noqa: S608 (names from the PersonalDataMap)
        f"WHERE jsonb_path_exists(t.{column}, '$.** ? (@ == $id)', jsonb_build_object('id', u.id)))"
        for column in spec.json_columns
    ]
    conditions += [
        f"strpos(CAST(t.{column} AS text), :delimited) > 0"
        for column in (*spec.delimited_columns, *spec.digested_columns)
    ]
    return " OR ".join(conditions)


def _binds(personal_data: PersonalDataMap, user_id: str, pseudonym: str = "") -> dict[str, Any]:
    """Bound values of the statements: ids, the ``:id:`` form found inside composite keys, pseudonym."""
    return {
        "ids": personal_data.identifiers_of(user_id),
        "delimited": f":{user_id}:",
        "pseudonym": pseudonym,
        "pseudonym_text": pseudonym,
        "delimited_pseudonym": f":{pseudonym}:",
    }


async def export_user(session: AsyncSession, personal_data: PersonalDataMap, user_id: str) -> dict[str, Any]:
    """Everything we hold on the user, table by table, plus their audit trail."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for spec in personal_data.tables:
        if not await table_exists(session, spec.table):
            continue
        rows = await session.execute(
            text(f"SELECT to_jsonb(t) FROM {spec.table} t WHERE {_match(spec)} ORDER BY {spec.order_by}"),  # noqa: S608
            _binds(personal_data, user_id),
        )
        found = [row for (row,) in rows]
        if spec.table == "api_keys":
            found = [{k: v for k, v in row.items() if k != "key_hash"} for row in found]
        if found:
            tables[spec.table] = found
    audit = await session.execute(
        text(
            "SELECT jsonb_build_object('seq', seq, 'occurred_at', occurred_at, 'actor', actor, "
            "'event', event, 'details', details) FROM audit_log WHERE subject = :subject ORDER BY seq"
        ),
        {"subject": user_subject(user_id)},
    )
    return {
        "user_id": user_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "tables": tables,
        "audit_log": [row for (row,) in audit],
        "not_included": "events already published to Kafka topics (retained per topic policy)",
    }


async def erase_user(
    session: AsyncSession, personal_data: PersonalDataMap, user_id: str, requested_by: str
) -> dict[str, Any]:
    """Erase the user inside the caller's transaction; returns the pseudonym and counts per table."""
    pseudonym = f"{ERASED_PREFIX}{secrets.token_hex(16)}"
    counts: dict[str, int] = {}
    for spec in personal_data.tables:
        if not await table_exists(session, spec.table):
            continue
        result = await session.execute(text(_erase_sql(spec)), _binds(personal_data, user_id, pseudonym))
        counts[spec.table] = result.rowcount  # type: ignore[attr-defined]
    audit = await session.execute(
        text(
            "UPDATE audit_log SET subject = :pseudonym, subject_salt = NULL, details = NULL, "
            "details_purged_at = now() WHERE subject = :subject"
        ),
        {"pseudonym": pseudonym, "subject": user_subject(user_id)},
    )
    counts["audit_log"] = audit.rowcount  # type: ignore[attr-defined]
    session.add(ErasureRecord(pseudonym=pseudonym, requested_by=requested_by, counts=counts))
    await append_audit(
        session,
        AuditEntry(actor=requested_by, event="user.erased", subject=pseudonym, details={"counts": counts}),
    )
    return {"pseudonym": pseudonym, "counts": counts}


def _erase_sql(spec: PersonalDataTable) -> str:
    where = _match(spec)
    if spec.erasure is Erasure.DELETE:
        return f"DELETE FROM {spec.table} t WHERE {where}"  # noqa: S608
    assignments = [f"{spec.user_column} = :pseudonym"] if spec.user_column else []
    assignments += [f"{column} = '{{}}'::jsonb" for column in spec.json_columns]
    assignments += [f"{column} = NULL" for column in spec.cleared_columns]
    rewritten: dict[str, str] = {}
    if spec.cloud_event_column:
        column = spec.cloud_event_column
        # data carries the user id under today's name and the seed's (userId, events since then)
        event = f"jsonb_set({column}, '{{subject}}', to_jsonb(CAST(:pseudonym_text AS text)))"
        for path in ("{data,user_id}", "{data,userId}"):
            event = f"jsonb_set({event}, '{path}', to_jsonb(CAST(:pseudonym_text AS text)), false)"
        rewritten[column] = f"CASE WHEN {column} ? 'data' THEN {event} ELSE {column} END"
    for column in spec.delimited_columns:
        # Composite keys such as "<event id>:<user id>:<product>" name the user between colons.
        inner = rewritten.get(column, column)
        as_text = f"replace(CAST({inner} AS text), :delimited, :delimited_pseudonym)"
        rewritten[column] = f"CAST({as_text} AS {'jsonb' if column in spec.jsonb_columns else 'text'})"
    rewritten |= {column: erased_event_id_sql(column) for column in spec.digested_columns}
    assignments += [f"{column} = {expression}" for column, expression in rewritten.items()]
    return f"UPDATE {spec.table} t SET {', '.join(assignments)} WHERE {where}"  # noqa: S608
