"""``?at=`` / ``?known_at=`` parsing: RFC 3339 date-times with an offset, nothing looser."""

from datetime import UTC, datetime

import pytest
from multidict import MultiDict

from services.gateway.as_of import InvalidTime, requested_as_of
from shared.db.entitlement_history import AsOf


def test_no_time_asks_for_the_current_state() -> None:
    assert requested_as_of(MultiDict()) is None


def test_offsets_are_read_as_the_same_instant_in_utc() -> None:
    as_of = requested_as_of(MultiDict(at="2026-03-03T01:30:00+01:30"))
    assert as_of == AsOf(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))


def test_lower_case_separators_and_fractions_are_rfc_3339_too() -> None:
    as_of = requested_as_of(MultiDict(at="2026-03-03t00:00:00.5z"))
    assert as_of == AsOf(datetime(2026, 3, 3, 0, 0, 0, 500000, tzinfo=UTC))


def test_known_at_alone_is_the_answer_we_gave_then() -> None:
    moment = datetime(2026, 3, 3, tzinfo=UTC)
    assert requested_as_of(MultiDict(known_at="2026-03-03T00:00:00Z")) == AsOf(moment, moment)


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+01:00", "2026-02-30T00:00:00Z", "2026-03-03T00:00Z", "now"]
)
def test_impossible_or_loose_times_are_refused(value: str) -> None:
    with pytest.raises(InvalidTime) as refused:
        requested_as_of(MultiDict(at=value))
    assert refused.value.field == "at"


def test_a_repeated_parameter_is_refused() -> None:
    with pytest.raises(InvalidTime):
        requested_as_of(MultiDict([("at", "2026-03-03T00:00:00Z"), ("at", "2026-03-04T00:00:00Z")]))
