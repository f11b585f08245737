"""One answer per click: a form's hidden idempotency key makes a double submit replay the first answer."""

from collections.abc import Awaitable, Callable

from services.gateway.idempotency import IdempotencyConflictError, IdempotencyStore, StoredAnswer


async def answer_once(
    store: IdempotencyStore, key: str, request: bytes, work: Callable[[], Awaitable[StoredAnswer]]
) -> StoredAnswer:
    """``work``'s answer, run once per key; a 5xx answer or an exception frees the key for a retry."""
    try:
        stored = await store.claim(key, request)
    except IdempotencyConflictError as exc:
        return StoredAnswer(409, {"error": {"code": exc.code, "message": str(exc)}})
    if stored is not None:
        return stored
    try:
        answer = await work()
    except BaseException:
        await store.release(key)
        raise
    if answer.status < 500:
        await store.complete(key, request, answer)
    else:
        await store.release(key)
    return answer
