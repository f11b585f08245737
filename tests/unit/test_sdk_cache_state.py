"""The entitlement cache's pure parts: events applied in order, duplicates and older events dropped,
expiry honoured, and the freshness rule that makes it refuse to answer."""

import uuid
from datetime import UTC, datetime, timedelta

from hometryon_billing.cache.freshness import Bounds, Lag, Phase, Probe, refusal
from hometryon_billing.cache.state import CacheState, Outcome
from hometryon_billing.models import Entitlement

PACK = str(uuid.uuid4())
ENT = uuid.uuid4()
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOW = T0.timestamp()


def _entitlement(
    status: str, *, user: str = "alice", ent: uuid.UUID | None = None, days: int = 30
) -> Entitlement:
    return Entitlement.model_validate(
        {
            "userId": user,
            "packId": PACK,
            "status": status,
            "provider": "revenuecat",
            "reference": "tx-1",
            "activationDate": T0.isoformat(),
            "expirationDate": (T0 + timedelta(days=days)).isoformat(),
            "entitlement_id": str(ent or ENT),
            "pack_slug": "try-on",
        }
    )


def _state(*entitlements: Entitlement) -> CacheState:
    state = CacheState(pack_features={PACK: frozenset({"try_on.3d"})})
    state.load_user("alice", list(entitlements))
    return state


def _allowed(state: CacheState, now: float = NOW) -> bool:
    return state.allowed(state.users["alice"], "try_on.3d", now)


def test_bootstrapped_active_entitlement_allows_its_features_only() -> None:
    state = _state(_entitlement("active"))
    assert _allowed(state)
    assert not state.allowed(state.users["alice"], "room.measure", NOW)


def test_revocation_event_denies_and_a_replayed_activation_older_than_it_is_ignored() -> None:
    state = _state(_entitlement("active"))
    assert state.apply("e2", T0 + timedelta(seconds=2), _entitlement("revoked")) is Outcome.APPLIED
    assert not _allowed(state)
    older = state.apply("e1", T0 + timedelta(seconds=1), _entitlement("active"))
    assert (older, _allowed(state)) == (Outcome.OLDER_THAN_HELD, False)


def test_the_same_event_id_applies_once() -> None:
    state = _state()
    assert state.apply("e1", T0, _entitlement("active")) is Outcome.APPLIED
    state.apply("e2", T0 + timedelta(seconds=1), _entitlement("revoked"))
    assert state.apply("e1", T0 + timedelta(seconds=2), _entitlement("active")) is Outcome.DUPLICATE
    assert not _allowed(state)


def test_events_of_users_not_followed_change_nothing() -> None:
    state = _state()
    assert state.apply("e1", T0, _entitlement("active", user="bob")) is Outcome.UNTRACKED_USER
    assert set(state.users) == {"alice"}


def test_an_active_entitlement_past_its_expiry_grants_nothing() -> None:
    state = _state(_entitlement("active", days=1))
    assert _allowed(state, NOW)
    assert not _allowed(state, (T0 + timedelta(days=2)).timestamp())


def test_of_two_entitlements_the_longer_one_keeps_the_feature() -> None:
    state = _state(_entitlement("active", days=1), _entitlement("active", ent=uuid.uuid4(), days=60))
    assert _allowed(state, (T0 + timedelta(days=30)).timestamp())
    state.apply("e9", T0, _entitlement("expired", days=1))
    assert _allowed(state, (T0 + timedelta(days=30)).timestamp())


def _lag(phase: Phase = Phase.LIVE, behind: int = 0, age: float | None = 0.1) -> Lag:
    return Lag(phase, {0: behind}, age, None, None)


def test_freshness_refuses_outside_its_bounds_and_says_why() -> None:
    bounds = Bounds(max_staleness_s=5, max_records_behind=10)
    assert refusal(_lag(), bounds) is None
    assert refusal(_lag(Phase.CATCHING_UP), bounds)[0] == "catching_up"  # type: ignore[index]
    assert refusal(_lag(Phase.DISCONNECTED), bounds)[0] == "disconnected"  # type: ignore[index]
    assert refusal(_lag(behind=11), bounds)[0] == "lagging"  # type: ignore[index]
    assert refusal(_lag(age=5.5), bounds)[0] == "silent"  # type: ignore[index]
    assert refusal(_lag(age=None), bounds)[0] == "silent"  # type: ignore[index]


def test_a_probe_is_reached_only_when_every_partition_is() -> None:
    probe = Probe(at=1.0, ends={0: 5, 1: 3})
    assert not probe.reached({0: 5, 1: 2})
    assert probe.reached({0: 5, 1: 3})
    assert probe.behind({0: 4}) == {0: 1, 1: 3}
