"""One gateway call over httpx: the request a ``Call`` describes, and its answer or its error."""

from typing import Any, TypeVar

import httpx

from hometryon_billing.calls import Call
from hometryon_billing.errors import BillingApiError

T = TypeVar("T")
USER_AGENT = "hometryon-billing-client/0.1"


def auth_headers(api_key: str | None, bearer_token: str | None) -> dict[str, str]:
    """An API key goes in ``X-API-Key``; a user token (``POST /v1/users/{id}/tokens``) as Bearer."""
    headers = {"User-Agent": USER_AGENT}
    if api_key is not None:
        headers["X-API-Key"] = api_key
    if bearer_token is not None:
        headers["Authorization"] = f"Bearer {bearer_token}"
    return headers


def build_request(client: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
    return client.build_request(
        call.method, call.path, params=dict(call.query), json=call.json, headers=dict(call.headers)
    )


def read_answer(call: Call[T], response: httpx.Response) -> T:
    if response.status_code in call.ok_statuses:
        return call.parse(response.json())
    raise api_error(response)


def api_error(response: httpx.Response) -> BillingApiError:
    """The gateway's ``{"error": {...}}``; anything else (a proxy's page) keeps its status and text."""
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return BillingApiError(response.status_code, "http_error", response.text[:200])
    extra = {k: v for k, v in error.items() if k not in {"code", "message", "field"}}
    return BillingApiError(response.status_code, code, message, error.get("field"), **extra)
