"""One answer per click: a form's hidden idempotency key makes a double submit replay the first answer.

The pages use the gateway's idempotency store; a signed-in user stands where an API key would (a
stable id derived from the user), so one user's clicks never collide with another's or an API client's.
"""

import uuid
from collections.abc import Awaitable, Callable

from services.gateway.idempotency import IdempotencyConflictError, IdempotencyStore, StoredAnswer

MARKETPLACE_CALLERS = uuid.UUID("5f0c7b8e-3d55-4a7e-9b59-0f3c8d1e2a61")


async def answer_once(
    store: IdempotencyStore,
    user_id: str,
    click: str,
    request: bytes,
    work: Callable[[], Awaitable[StoredAnswer]],
) -> StoredAnswer:
    """``work``'s answer, run once per click; a 5xx answer or an exception frees the click for a retry."""
    try:
        claim = await store.claim(uuid.uuid5(MARKETPLACE_CALLERS, user_id), click, request)
    except IdempotencyConflictError as exc:
        return StoredAnswer(409, {"error": {"code": exc.code, "message": str(exc)}})
    if claim.stored is not None:
        return claim.stored
    try:
        answer = await work()
    except BaseException:
        await store.release(claim)
        raise
    if answer.status < 500:
        await store.complete(claim, answer)
    else:
        await store.release(claim)
    return answer
