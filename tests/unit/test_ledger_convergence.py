"""Property: whatever order and however often deliveries arrive, the ledger ends in the provider's
final truth, and what it announced tells a subscriber exactly that (shared/domain/ledger.py).

Deliveries are folded the way the worker applies them: an update id already claimed changes
nothing (``processed_events``), every other one goes through ``decide``. The database-backed
variant of the same property is tests/integration/test_ledger_convergence_db.py.
"""

from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.entitlements import EntitlementEventType, EntitlementStatus
from shared.domain.entitlements import EntitlementUpdate as Update
from shared.domain.ledger import EntitlementState, decide, precedence_of
from tests.unit.lifecycles import SWEEP, Lifecycle, lifecycles

GRANTING = {EntitlementEventType.ACTIVATED, EntitlementEventType.RENEWED}


@dataclass
class Folded:
    state: EntitlementState | None = None
    announced: list[tuple[EntitlementEventType, EntitlementState, str]] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)

    def deliver(self, update: Update) -> None:
        if update.update_id in self.claimed:
            return
        self.claimed.add(update.update_id)
        decision = decide(self.state, update)
        if decision is None:
            return
        self.state = decision.state
        if decision.announced is not None:
            self.announced.append((decision.announced, decision.state, update.update_id))


def fold(updates: list[Update]) -> Folded:
    folded = Folded()
    for update in updates:
        folded.deliver(update)
    return folded


def truth(lifecycle: Lifecycle) -> tuple[EntitlementStatus, object]:
    said_by_provider = [u for u in lifecycle.updates if u.provider_event_type != SWEEP]
    final = max(said_by_provider, key=precedence_of)
    return final.status, final.expires_at


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[Lifecycle, list[Update]]:
    """A lifecycle and its deliveries: every update at least once, in any order, some again."""
    lifecycle = draw(lifecycles())
    again = draw(st.lists(st.sampled_from(lifecycle.updates), max_size=6))
    return lifecycle, draw(st.permutations([*lifecycle.updates, *again]))


@given(deliveries())
def test_the_ledger_ends_in_the_providers_final_truth(case: tuple[Lifecycle, list[Update]]) -> None:
    lifecycle, delivered = case
    final = fold(delivered).state
    assert final is not None
    assert (final.status, final.expires_at) == truth(lifecycle)
    clean = fold(list(lifecycle.updates)).state
    assert final == clean  # the state one clean delivery leaves, field by field


@given(deliveries())
def test_what_was_announced_tells_a_subscriber_the_final_truth(case: tuple[Lifecycle, list[Update]]) -> None:
    lifecycle, delivered = case
    announced = fold(delivered).announced
    status, expires_at = truth(lifecycle)
    # A subscriber grants access on activated/renewed and withdraws it on expired/revoked.
    has_access = bool(announced) and announced[-1][0] in GRANTING
    assert has_access == (status is EntitlementStatus.ACTIVE)
    if has_access:
        assert announced[-1][1].expires_at == expires_at
    # Each transition is announced once: no update announces twice, however often it arrived.
    announcing = [update_id for _, _, update_id in announced]
    assert len(announcing) == len(set(announcing))


@given(lifecycles(), st.data())
def test_duplicates_alone_announce_exactly_what_one_clean_delivery_does(
    lifecycle: Lifecycle, data: st.DataObject
) -> None:
    copies = data.draw(
        st.lists(st.integers(1, 3), min_size=len(lifecycle.updates), max_size=len(lifecycle.updates))
    )
    delivered: list[Update] = []
    for update, count in zip(lifecycle.updates, copies, strict=True):
        delivered += [update] * count  # a provider retry right after, or a redelivery
    assert fold(delivered).announced == fold(list(lifecycle.updates)).announced
