"""Which processing failures are retried until they pass, dead-lettered at once, or retried a little."""

import pytest
from aiokafka.errors import KafkaConnectionError
from pydantic import BaseModel, ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.db.catalog import UnknownProductError
from shared.domain.errors import ProviderError
from shared.messaging.failures import Failure, classify_failure


class _Update(BaseModel):
    user_id: str


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _validation_error() -> ValidationError:
    try:
        _Update.model_validate_json(b"{not json")
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


def _database_error(sqlstate: str) -> DBAPIError:
    return DBAPIError("SELECT 1", None, _PgError(sqlstate))


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        TimeoutError(),
        KafkaConnectionError(),
        RedisConnectionError(),
        ProviderError("revenuecat", "HTTP 503", retryable=True, status=503),
        OperationalError("SELECT 1", None, _PgError("08006")),
        _database_error("40001"),  # serialization failure
        _database_error("55P03"),  # lock_timeout
        _database_error("57014"),  # statement_timeout
        RuntimeError("wrapped"),
    ],
)
def test_dependency_failures_are_transient(exc: BaseException) -> None:
    if isinstance(exc, RuntimeError):
        exc.__cause__ = ConnectionResetError()
    assert classify_failure(exc) is Failure.TRANSIENT


@pytest.mark.parametrize(
    "exc",
    [
        _validation_error(),
        UnknownProductError("no pack maps revenuecat product 'x'"),
        ProviderError("revenuecat", "HTTP 404", retryable=False, status=404),
        _database_error("22021"),  # invalid byte sequence (a NUL in a string)
    ],
)
def test_bad_input_is_permanent(exc: BaseException) -> None:
    assert classify_failure(exc) is Failure.PERMANENT


@pytest.mark.parametrize("exc", [RuntimeError("bug"), _database_error("23505"), AssertionError()])
def test_anything_else_is_unknown(exc: BaseException) -> None:
    assert classify_failure(exc) is Failure.UNKNOWN
