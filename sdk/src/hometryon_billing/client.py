"""Typed clients of the gateway: ``BillingClient`` (sync) and ``AsyncBillingClient``.

Both run the calls of ``calls.py``; a method per route, named as in ``calls.ROUTES``. Errors are
``BillingApiError`` with the gateway's ``code``/``message``/``field``.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self, TypeVar

import httpx

from hometryon_billing import calls
from hometryon_billing.calls import Call
from hometryon_billing.models import (
    CheckoutInput,
    CheckoutSession,
    Erasure,
    FeatureCheck,
    Pack,
    Provider,
    Readiness,
    Receipts,
    Refund,
    RevocationAccepted,
    RevokeByReference,
    UserEntitlements,
    UserToken,
)
from hometryon_billing.transport import auth_headers, build_request, read_answer

T = TypeVar("T")


class BillingClient:
    """``BillingClient("http://gateway:8080", api_key=...)``; use as a context manager or ``close()``."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        bearer_token: str | None = None,
        timeout_s: float = 10.0,
        http: httpx.Client | None = None,
    ) -> None:
        self._http = http or httpx.Client(
            base_url=base_url, headers=auth_headers(api_key, bearer_token), timeout=timeout_s
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def run(self, call: Call[T]) -> T:
        return read_answer(call, self._http.send(build_request(self._http, call)))

    def list_packs(
        self, provider: Provider | None = None, market: str | None = None, user: str | None = None
    ) -> list[Pack]:
        return self.run(calls.list_packs(provider, market, user))

    def get_pack(self, slug_or_id: str, market: str | None = None, user: str | None = None) -> Pack:
        return self.run(calls.get_pack(slug_or_id, market, user))

    def checkout(self, wanted: CheckoutInput, idempotency_key: str | None = None) -> CheckoutSession:
        return self.run(calls.checkout(wanted, idempotency_key))

    def entitlements(
        self, user_id: str, at: datetime | None = None, known_at: datetime | None = None
    ) -> UserEntitlements:
        return self.run(calls.entitlements(user_id, at, known_at))

    def check_feature(
        self, user_id: str, feature: str, at: datetime | None = None, known_at: datetime | None = None
    ) -> FeatureCheck:
        return self.run(calls.check_feature(user_id, feature, at, known_at))

    def receipts(self, purchase_reference: str) -> Receipts:
        return self.run(calls.receipts(purchase_reference))

    def revoke_entitlement(self, entitlement_id: str, reason: str) -> RevocationAccepted:
        return self.run(calls.revoke_entitlement(entitlement_id, reason))

    def revoke_by_reference(self, wanted: RevokeByReference) -> RevocationAccepted:
        return self.run(calls.revoke_by_reference(wanted))

    def create_pack(self, spec: Mapping[str, Any]) -> Pack:
        return self.run(calls.create_pack(spec))

    def update_pack(self, slug: str, spec: Mapping[str, Any]) -> Pack:
        return self.run(calls.update_pack(slug, spec))

    def deactivate_pack(self, slug: str) -> Pack:
        return self.run(calls.deactivate_pack(slug))

    def create_user_token(
        self, user_id: str, ttl_seconds: int | None = None, name: str | None = None
    ) -> UserToken:
        return self.run(calls.create_user_token(user_id, ttl_seconds, name))

    def export_user(self, user_id: str) -> dict[str, Any]:
        return self.run(calls.export_user(user_id))

    def erase_user(self, user_id: str) -> Erasure:
        return self.run(calls.erase_user(user_id))

    def start_lightning_refund(self, purchase_reference: str, reason: str | None = None) -> Refund:
        return self.run(calls.start_lightning_refund(purchase_reference, reason))

    def lightning_refund(self, refund_id: str) -> Refund:
        return self.run(calls.lightning_refund(refund_id))

    def readiness(self) -> Readiness:
        return self.run(calls.readiness())


class AsyncBillingClient:
    """The same methods as ``BillingClient``, awaited; ``async with AsyncBillingClient(...)``."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        bearer_token: str | None = None,
        timeout_s: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = http or httpx.AsyncClient(
            base_url=base_url, headers=auth_headers(api_key, bearer_token), timeout=timeout_s
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def run(self, call: Call[T]) -> T:
        return read_answer(call, await self._http.send(build_request(self._http, call)))

    async def list_packs(
        self, provider: Provider | None = None, market: str | None = None, user: str | None = None
    ) -> list[Pack]:
        return await self.run(calls.list_packs(provider, market, user))

    async def get_pack(self, slug_or_id: str, market: str | None = None, user: str | None = None) -> Pack:
        return await self.run(calls.get_pack(slug_or_id, market, user))

    async def checkout(self, wanted: CheckoutInput, idempotency_key: str | None = None) -> CheckoutSession:
        return await self.run(calls.checkout(wanted, idempotency_key))

    async def entitlements(
        self, user_id: str, at: datetime | None = None, known_at: datetime | None = None
    ) -> UserEntitlements:
        return await self.run(calls.entitlements(user_id, at, known_at))

    async def check_feature(
        self, user_id: str, feature: str, at: datetime | None = None, known_at: datetime | None = None
    ) -> FeatureCheck:
        return await self.run(calls.check_feature(user_id, feature, at, known_at))

    async def receipts(self, purchase_reference: str) -> Receipts:
        return await self.run(calls.receipts(purchase_reference))

    async def revoke_entitlement(self, entitlement_id: str, reason: str) -> RevocationAccepted:
        return await self.run(calls.revoke_entitlement(entitlement_id, reason))

    async def revoke_by_reference(self, wanted: RevokeByReference) -> RevocationAccepted:
        return await self.run(calls.revoke_by_reference(wanted))

    async def create_pack(self, spec: Mapping[str, Any]) -> Pack:
        return await self.run(calls.create_pack(spec))

    async def update_pack(self, slug: str, spec: Mapping[str, Any]) -> Pack:
        return await self.run(calls.update_pack(slug, spec))

    async def deactivate_pack(self, slug: str) -> Pack:
        return await self.run(calls.deactivate_pack(slug))

    async def create_user_token(
        self, user_id: str, ttl_seconds: int | None = None, name: str | None = None
    ) -> UserToken:
        return await self.run(calls.create_user_token(user_id, ttl_seconds, name))

    async def export_user(self, user_id: str) -> dict[str, Any]:
        return await self.run(calls.export_user(user_id))

    async def erase_user(self, user_id: str) -> Erasure:
        return await self.run(calls.erase_user(user_id))

    async def start_lightning_refund(self, purchase_reference: str, reason: str | None = None) -> Refund:
        return await self.run(calls.start_lightning_refund(purchase_reference, reason))

    async def lightning_refund(self, refund_id: str) -> Refund:
        return await self.run(calls.lightning_refund(refund_id))

    async def readiness(self) -> Readiness:
        return await self.run(calls.readiness())
