"""Every gateway route the SDK speaks, once: method, path, parameters and how to read the answer.

The sync and the async client run the same ``Call`` (``client.py``), so the two never drift, and
``ROUTES`` lists what both use (checked against the gateway's router by the SDK's tests).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

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

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    template: str  # the gateway's route, e.g. /v1/users/{user_id}/entitlements
    parse: Callable[[Any], T]
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    ok_statuses: frozenset[int] = frozenset({200})

    @property
    def path(self) -> str:
        # Every value is one path segment: a user id with "/" must not reach another route.
        return self.template.format_map({k: quote(v, safe="") for k, v in self.path_params.items()})


def _call(name: str, parse: Callable[[Any], T], *args: Any, **kwargs: Any) -> Call[T]:
    method, template = ROUTES[name]
    return Call(method, template, parse, *args, **kwargs)


def _query(**values: str | datetime | None) -> dict[str, str]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in values.items()
        if value is not None
    }


def _as_of(at: datetime | None, known_at: datetime | None) -> dict[str, str]:
    return _query(at=at, known_at=known_at)


def list_packs(
    provider: Provider | None = None, market: str | None = None, user: str | None = None
) -> Call[list[Pack]]:
    return _call(
        "list_packs",
        lambda body: [Pack.model_validate(p) for p in body["packs"]],
        query=_query(provider=provider, market=market, user=user),
    )


def get_pack(slug_or_id: str, market: str | None = None, user: str | None = None) -> Call[Pack]:
    return _call("get_pack", Pack.model_validate, {"slug": slug_or_id}, _query(market=market, user=user))


def checkout(wanted: CheckoutInput, idempotency_key: str | None = None) -> Call[CheckoutSession]:
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    return _call(
        "checkout",
        CheckoutSession.model_validate,
        json=wanted.body(),
        headers=headers,
        ok_statuses=frozenset({200, 201}),
    )


def entitlements(
    user_id: str, at: datetime | None = None, known_at: datetime | None = None
) -> Call[UserEntitlements]:
    return _call(
        "entitlements",
        UserEntitlements.model_validate,
        {"user_id": user_id},
        _as_of(at, known_at),
    )


def check_feature(
    user_id: str, feature: str, at: datetime | None = None, known_at: datetime | None = None
) -> Call[FeatureCheck]:
    return _call(
        "check_feature",
        FeatureCheck.model_validate,
        {"user_id": user_id, "feature": feature},
        _as_of(at, known_at),
    )


def receipts(purchase_reference: str) -> Call[Receipts]:
    return _call(
        "receipts",
        Receipts.model_validate,
        {"purchaseReference": purchase_reference},
    )


def revoke_entitlement(entitlement_id: str, reason: str) -> Call[RevocationAccepted]:
    return _call(
        "revoke_entitlement",
        RevocationAccepted.model_validate,
        {"entitlement_id": entitlement_id},
        json={"reason": reason},
        ok_statuses=frozenset({202}),
    )


def revoke_by_reference(wanted: RevokeByReference) -> Call[RevocationAccepted]:
    return _call(
        "revoke_by_reference",
        RevocationAccepted.model_validate,
        json=wanted.body(),
        ok_statuses=frozenset({202}),
    )


def create_pack(spec: Mapping[str, Any]) -> Call[Pack]:
    """``spec``: a pack as ``billing catalog apply`` reads it (docs/catalog.md)."""
    return _call("create_pack", _admin_pack, json=dict(spec), ok_statuses=frozenset({201}))


def update_pack(slug: str, spec: Mapping[str, Any]) -> Call[Pack]:
    return _call("update_pack", _admin_pack, {"slug": slug}, json=dict(spec))


def deactivate_pack(slug: str) -> Call[Pack]:
    return _call("deactivate_pack", _admin_pack, {"slug": slug})


def _admin_pack(body: Any) -> Pack:
    return Pack.model_validate(body.get("pack", body))


def create_user_token(
    user_id: str, ttl_seconds: int | None = None, name: str | None = None
) -> Call[UserToken]:
    wanted: dict[str, Any] = {"ttlSeconds": ttl_seconds, "name": name}
    return _call(
        "create_user_token",
        UserToken.model_validate,
        {"user_id": user_id},
        json={k: v for k, v in wanted.items() if v is not None},
        ok_statuses=frozenset({201}),
    )


def export_user(user_id: str) -> Call[dict[str, Any]]:
    return _call("export_user", dict, {"user_id": user_id})


def erase_user(user_id: str) -> Call[Erasure]:
    return _call("erase_user", Erasure.model_validate, {"user_id": user_id})


def start_lightning_refund(purchase_reference: str, reason: str | None = None) -> Call[Refund]:
    wanted = {"purchaseReference": purchase_reference} | ({"reason": reason} if reason else {})
    return _call("start_lightning_refund", Refund.model_validate, json=wanted, ok_statuses=frozenset({202}))


def lightning_refund(refund_id: str) -> Call[Refund]:
    return _call("lightning_refund", Refund.model_validate, {"refundId": refund_id})


def readiness() -> Call[Readiness]:
    # 503 carries the same body: a client asking "ready?" wants the answer, not an exception.
    return _call("readiness", Readiness.model_validate, ok_statuses=frozenset({200, 503}))


# name -> (method, route) of every call above; both clients have one method per name.
ROUTES: dict[str, tuple[str, str]] = {
    "list_packs": ("GET", "/v1/packs"),
    "get_pack": ("GET", "/v1/packs/{slug}"),
    "checkout": ("POST", "/v1/checkout"),
    "entitlements": ("GET", "/v1/users/{user_id}/entitlements"),
    "check_feature": ("GET", "/v1/users/{user_id}/features/{feature}"),
    "receipts": ("GET", "/v1/receipts/{purchaseReference}"),
    "revoke_entitlement": ("POST", "/v1/admin/entitlements/{entitlement_id}/revoke"),
    "revoke_by_reference": ("POST", "/v1/admin/entitlements/revoke"),
    "create_pack": ("POST", "/v1/admin/packs"),
    "update_pack": ("PUT", "/v1/admin/packs/{slug}"),
    "deactivate_pack": ("POST", "/v1/admin/packs/{slug}/deactivate"),
    "create_user_token": ("POST", "/v1/users/{user_id}/tokens"),
    "export_user": ("GET", "/v1/users/{user_id}/export"),
    "erase_user": ("DELETE", "/v1/users/{user_id}"),
    "start_lightning_refund": ("POST", "/v1/lightning/refunds"),
    "lightning_refund": ("GET", "/v1/lightning/refunds/{refundId}"),
    "readiness": ("GET", "/readyz"),
}
