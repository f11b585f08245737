"""Mapping between our user ids and RevenueCat app user ids (``rc_<userId>``)."""

from collections.abc import Iterable

APP_USER_ID_PREFIX = "rc_"


def app_user_id_for(user_id: str) -> str:
    return f"{APP_USER_ID_PREFIX}{user_id}"


def user_id_from_app_user_ids(candidates: Iterable[str | None]) -> str | None:
    """Our user id from the first ``rc_``-prefixed id among app user id, original id and aliases."""
    for candidate in candidates:
        if candidate and candidate.startswith(APP_USER_ID_PREFIX) and len(candidate) > 3:
            return candidate.removeprefix(APP_USER_ID_PREFIX)
    return None
