"""Which processing failures are worth retrying: the one classification every consumer uses.

- **permanent**: the message itself is bad and will fail the same way every time: invalid payload
  (pydantic ``ValidationError``, any ``ValueError``/``LookupError``, e.g. an unknown catalog mapping),
  a provider refusal that retrying cannot change, or data Postgres rejects (SQLSTATE class 22).
- **transient**: a dependency is down or busy: lost or refused connections (``OSError``, which
  covers ``ConnectionError`` and ``TimeoutError``), Postgres connection, rollback, resource or
  operator errors (SQLSTATE 08, 40, 53, 55P03, 57, 58), a pool timeout, Kafka and Redis connection
  errors, a retryable provider error (5xx, 429, timeouts). They pass by themselves.
- **unknown**: anything else, most likely a bug; retrying a few times is cheap, retrying forever
  would stall a partition on one message, so callers retry it a bounded number of times.
"""

from enum import StrEnum

from aiokafka.errors import KafkaError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from shared.domain.errors import ProviderError

TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57", "58")
TRANSIENT_SQLSTATES = ("55P03",)  # lock_not_available: our lock_timeout
PERMANENT_SQLSTATE_CLASSES = ("22",)  # data exception: NUL bytes, bad encodings, out-of-range values
TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OSError,
    KafkaError,
    RedisConnectionError,
    RedisTimeoutError,
    PoolTimeoutError,
    OperationalError,
    InterfaceError,
)


class Failure(StrEnum):
    PERMANENT = "permanent"
    TRANSIENT = "transient"
    UNKNOWN = "unknown"


def classify_failure(exc: BaseException) -> Failure:
    """How ``exc`` should be handled; the causes of wrapped errors count too (``raise … from``)."""
    if isinstance(exc, ProviderError):
        return Failure.TRANSIENT if exc.retryable else Failure.PERMANENT
    if isinstance(exc, DBAPIError):
        return _classify_database_error(exc)
    if isinstance(exc, TRANSIENT_TYPES):
        return Failure.TRANSIENT
    if isinstance(exc, ValueError | LookupError):
        return Failure.PERMANENT
    cause = exc.__cause__
    return classify_failure(cause) if cause is not None else Failure.UNKNOWN


def _classify_database_error(exc: DBAPIError) -> Failure:
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return Failure.TRANSIENT
    if sqlstate in TRANSIENT_SQLSTATES or sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES:
        return Failure.TRANSIENT
    if sqlstate[:2] in PERMANENT_SQLSTATE_CLASSES:
        return Failure.PERMANENT
    return Failure.UNKNOWN
