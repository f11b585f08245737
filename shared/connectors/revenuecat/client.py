"""RevenueCat REST client (API v1 customers, API v2 project configuration) over httpx.

Every call has a timeout and bounded retries: a 429 waits the body's ``backoff_ms`` (preferred) or
``Retry-After``; 5xx and transport errors back off exponentially. What still fails is a ``ProviderError``.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from pydantic import SecretStr
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from shared.domain.errors import ProviderError
from shared.observability.provider_calls import provider_call
from shared.settings import Settings

log = structlog.get_logger(__name__)
PROVIDER = "revenuecat"


class RateLimitedError(ProviderError):
    """A 429; ``backoff_s`` is how long RevenueCat asked us to wait, when it said."""

    def __init__(self, message: str, backoff_s: float | None) -> None:
        super().__init__(PROVIDER, message, retryable=True, status=429)
        self.backoff_s = backoff_s


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    initial_s: float = 0.5
    max_s: float = 30.0

    def wait_s(self, retry_state: RetryCallState) -> float:
        """RevenueCat's own backoff for a 429, else exponential backoff capped at ``max_s``."""
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, RateLimitedError) and exc.backoff_s is not None:
            return min(exc.backoff_s, self.max_s)
        return float(min(self.initial_s * 2 ** (retry_state.attempt_number - 1), self.max_s))


def backoff_from_429(response: httpx.Response) -> float | None:
    """Seconds to wait: ``backoff_ms`` from the body, else ``Retry-After`` (read as seconds)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("backoff_ms"), int | float):
        return float(body["backoff_ms"]) / 1000
    retry_after = response.headers.get("Retry-After")
    if retry_after is not None:
        try:
            return float(retry_after)
        except ValueError:
            return None
    return None


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable


class RevenueCatClient:
    """Thin typed access to the endpoints we use; payloads stay RevenueCat's own JSON."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: SecretStr,
        api_v2_key: SecretStr | None = None,
        project_id: str = "",
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._api_v2_key = api_v2_key if api_v2_key and api_v2_key.get_secret_value() else api_key
        self.project_id = project_id
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0))
        self._retry = retry or RetryPolicy()

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.AsyncClient) -> "RevenueCatClient":
        return cls(
            http,
            base_url=settings.revenuecat.api_base_url,
            api_key=settings.revenuecat.api_key,
            api_v2_key=settings.revenuecat.api_v2_key,
            project_id=settings.revenuecat.project_id,
            timeout_s=settings.revenuecat.http_timeout_s,
            retry=RetryPolicy(
                max_attempts=settings.revenuecat.http_max_attempts,
                initial_s=settings.revenuecat.http_backoff_initial_s,
                max_s=settings.revenuecat.http_backoff_max_s,
            ),
        )

    async def get_subscriber(self, app_user_id: str) -> dict[str, Any]:
        """``GET /v1/subscribers/{id}``: the customer's current CustomerInfo (created if missing)."""
        path = f"/v1/subscribers/{quote(app_user_id, safe='')}"
        return await self._call("GET", path, key=self._api_key)

    async def update_subscriber_attributes(self, app_user_id: str, body: dict[str, Any]) -> None:
        """``POST /v1/subscribers/{id}/attributes`` (``{"attributes": {name: {value, updated_at_ms}}}``)."""
        path = f"/v1/subscribers/{quote(app_user_id, safe='')}/attributes"
        await self._call("POST", path, key=self._api_key, json=body)

    async def list_v2(self, collection: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a project collection (``products``, ``entitlements``, ...), all pages."""
        items: list[dict[str, Any]] = []
        path: str | None = f"{self._project_path()}/{collection}"
        query: dict[str, str] | None = {"limit": "100", **(params or {})}
        while path:
            page = await self._call("GET", path, key=self._api_v2_key, params=query)
            items.extend(page.get("items", []))
            next_page = page.get("next_page")
            # next_page is a path with its own query (cursor included)
            path, query = (next_page, None) if next_page else (None, None)
        return items

    async def post_v2(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST`` below the project (e.g. ``products``, ``entitlements/{id}/actions/attach_products``)."""
        return await self._call("POST", f"{self._project_path()}/{path}", key=self._api_v2_key, json=body)

    async def get_v2(self, path: str) -> dict[str, Any]:
        return await self._call("GET", f"{self._project_path()}/{path}", key=self._api_v2_key)

    def _project_path(self) -> str:
        if not self.project_id:
            raise ProviderError(PROVIDER, "no RevenueCat project id configured", retryable=False)
        return f"/v2/projects/{quote(self.project_id, safe='')}"

    async def _call(
        self,
        method: str,
        path: str,
        *,
        key: SecretStr,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(self._retry.max_attempts),
            wait=self._retry.wait_s,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._call_once(method, path, key=key, params=params, json=json)
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def _call_once(
        self,
        method: str,
        path: str,
        *,
        key: SecretStr,
        params: dict[str, str] | None,
        json: dict[str, Any] | None,
    ) -> dict[str, Any]:
        url = path if path.startswith("http") else f"{self._base_url}{path}"
        try:
            with provider_call("revenuecat", method) as call:
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={
                        "Authorization": f"Bearer {key.get_secret_value()}",
                        "Accept": "application/json",
                    },
                    timeout=self._timeout,
                )
                call.answered(response.status_code)
        except httpx.TransportError as exc:
            log.warning("revenuecat_unreachable", method=method, path=path, error=type(exc).__name__)
            raise ProviderError(PROVIDER, f"{method} {path}: {type(exc).__name__}", retryable=True) from exc
        if response.status_code == 429:
            backoff_s = backoff_from_429(response)
            log.warning("revenuecat_rate_limited", method=method, path=path, backoff_s=backoff_s)
            raise RateLimitedError(f"{method} {path}: rate limited", backoff_s)
        if response.status_code >= 500:
            log.warning("revenuecat_server_error", method=method, path=path, status=response.status_code)
            raise ProviderError(
                PROVIDER,
                f"{method} {path}: HTTP {response.status_code}",
                retryable=True,
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise ProviderError(
                PROVIDER,
                f"{method} {path}: HTTP {response.status_code} {_message(response)}",
                retryable=False,
                status=response.status_code,
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderError(PROVIDER, f"{method} {path}: body is not JSON", retryable=True) from exc
        if not isinstance(body, dict):
            raise ProviderError(PROVIDER, f"{method} {path}: body is not an object", retryable=False)
        return body


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("message", ""))[:200] if isinstance(body, dict) else ""
