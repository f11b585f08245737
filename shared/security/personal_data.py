"""Where we hold personal data, and what erasure does to each place.

One entry per table: rows are found by a user column equal to one of the user's identifiers (our
id, RevenueCat's ``rc_<id>``) and/or by a JSON column holding one as a value anywhere inside.
Rows needed for accounting are kept under a pseudonym; the rest are deleted. Tables that do not
exist in this deployment (a provider not migrated) are skipped. Each provider declares its own tables
and the ids it knows the user by in its folder; the registry joins them with ``CORE_PERSONAL_DATA``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Erasure(StrEnum):
    PSEUDONYMISE = "pseudonymise"  # kept for accounting: user column := pseudonym, cleared columns
    DELETE = "delete"


@dataclass(frozen=True)
class PersonalDataTable:
    table: str
    user_column: str | None
    erasure: Erasure
    # JSON columns searched for the user's identifiers as values (and cleared to {} on erasure).
    json_columns: tuple[str, ...] = ()
    # Columns set to NULL on erasure (free text that may name the user).
    cleared_columns: tuple[str, ...] = ()
    # Outbox CloudEvents name the user in "subject" and "data.user_id"/"data.userId": rewritten, not cleared.
    cloud_event_column: str | None = None
    # Columns whose text holds the user id between colons (composite dedupe keys); rewritten in place.
    delimited_columns: tuple[str, ...] = ()
    # Claimed event ids naming the user between colons: replaced by their digest, which still dedupes
    # (shared/db/ledger_writes.py::erased_event_id_sql).
    digested_columns: tuple[str, ...] = ()
    # Which of the rewritten columns are jsonb (the rest are text).
    jsonb_columns: tuple[str, ...] = ()
    order_by: str = field(default="1")


CORE_PERSONAL_DATA: tuple[PersonalDataTable, ...] = (
    PersonalDataTable(
        "user_entitlements", "user_id", Erasure.PSEUDONYMISE, cleared_columns=("status_reason",)
    ),
    # History is accounting too ("what was active at month end"): kept, under the pseudonym.
    PersonalDataTable(
        "entitlement_history",
        "user_id",
        Erasure.PSEUDONYMISE,
        cleared_columns=("status_reason",),
        delimited_columns=("provider_event_id",),
        order_by="seq",
    ),
    PersonalDataTable("checkout_sessions", "user_id", Erasure.PSEUDONYMISE, json_columns=("details",)),
    PersonalDataTable(
        "outbox",
        "key",
        Erasure.PSEUDONYMISE,
        cloud_event_column="payload",
        delimited_columns=("payload",),
        jsonb_columns=("payload",),
    ),
    PersonalDataTable(
        "processed_events", None, Erasure.PSEUDONYMISE, digested_columns=("provider_event_id",)
    ),
    PersonalDataTable("api_keys", "user_id", Erasure.DELETE),
)


@dataclass(frozen=True)
class PersonalDataMap:
    """Every table holding personal data, and every id a provider or table may hold for a user."""

    tables: tuple[PersonalDataTable, ...]
    provider_user_ids: tuple[Callable[[str], str], ...] = ()

    def identifiers_of(self, user_id: str) -> list[str]:
        return [user_id, *(provider_id(user_id) for provider_id in self.provider_user_ids)]
