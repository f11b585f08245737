"""Percentage rollout: a user's answer never changes between calls, and the share admitted matches."""

import hashlib

from shared.catalog.gating import sale_decision
from shared.catalog.rollout import BUCKETS, admitted, rollout_bucket
from shared.domain.provider import Provider

USERS = [f"user-{n:05d}" for n in range(10_000)]


def test_same_user_gets_the_same_answer_on_every_call() -> None:
    flags = {"rollout.lightning": 50}
    for user in USERS[:500]:
        answers = {sale_decision(flags, Provider.LIGHTNING, "US", user).allowed for _ in range(5)}
        assert len(answers) == 1


def test_bucket_is_sha256_of_flag_and_user_not_pythons_salted_hash() -> None:
    # Pinned to the digest itself, so another process (another PYTHONHASHSEED) gets the same bucket.
    digest = hashlib.sha256(b"rollout.lightning:ana").digest()
    assert rollout_bucket("rollout.lightning", "ana") == int.from_bytes(digest[:8], "big") % BUCKETS


def test_quarter_rollout_admits_a_quarter_of_ten_thousand_users() -> None:
    admitted_users = sum(admitted("rollout.lightning", 25, user) for user in USERS)
    assert abs(admitted_users / len(USERS) - 0.25) <= 0.02


def test_raising_the_percentage_keeps_everyone_already_admitted() -> None:
    at_25 = {user for user in USERS if admitted("rollout.lightning", 25, user)}
    at_50 = {user for user in USERS if admitted("rollout.lightning", 50, user)}
    assert at_25 < at_50


def test_each_rollout_flag_picks_its_own_users() -> None:
    lightning = {user for user in USERS if admitted("rollout.lightning", 25, user)}
    in_germany = {user for user in USERS if admitted("rollout.lightning.market.DE", 25, user)}
    assert lightning != in_germany
