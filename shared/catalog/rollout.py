"""Percentage rollout: which users a ``rollout.*`` flag lets in, the same answer on every call.

A user's bucket is the sha256 of ``"<flag>:<user>"`` (never Python's salted ``hash()``), so it is
the same in every process and on every machine, and raising a percentage only ever lets more users
in: a user admitted at 25 % is still admitted at 50 %.
"""

import hashlib

BUCKETS = 10_000  # 0.01 % steps, so a percentage is an exact number of buckets
BUCKETS_PER_PERCENT = BUCKETS // 100


def rollout_bucket(flag: str, user_id: str) -> int:
    """The user's bucket (0..9999) for ``flag``; each flag shuffles users independently."""
    digest = hashlib.sha256(f"{flag}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def admitted(flag: str, percent: int, user_id: str | None) -> bool:
    """Whether ``flag`` at ``percent`` (0..100) lets ``user_id`` in; no unnamed user is in a partial one."""
    if percent >= 100:
        return True
    if percent <= 0 or user_id is None:
        return False
    return rollout_bucket(flag, user_id) < percent * BUCKETS_PER_PERCENT
