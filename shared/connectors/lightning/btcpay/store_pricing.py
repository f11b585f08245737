"""Our catalog at BTCPay Server ("store pricing"): one offering, one plan per pack sold over Lightning.

Plans follow BTCPay 2.x Subscriptions (``swagger.template.subscriptions.json``): name, description,
price (a decimal string in major units), currency, recurring type and features; ``metadata``
carries our slug and product id, which is how a plan is matched to a pack. Greenfield has no call to
edit or retire a plan, so a plan that drifted is edited with ``PUT`` where the server allows it (the
sandbox does) and otherwise replaced by a new plan; a plan of a pack we stopped selling is reported.

Fiat-priced packs also get their price in millisatoshis from the price oracle, kept with the
listing as our price record (``price_msat``, ``btc_price``, ``priced_at``).
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from shared.catalog.provider_catalog import Divergence, Repair, WantedListing
from shared.connectors.lightning.pricing.conversion import (
    MSAT_PER_BTC,
    fiat_minor_to_msat,
    minor_unit_exponent,
)
from shared.connectors.lightning.pricing.oracle import PriceOracle
from shared.domain.errors import ProviderError
from shared.domain.packs import BillingKind
from shared.domain.provider import Provider
from shared.observability.provider_calls import provider_call

PROVIDER = "lightning-btcpay"
MANAGED_BY = "hometryon-billing"
OFFERING_NAME = "HomeTryOn MicroSaaS packs"
RECURRING_TYPES = {"P1M": "Monthly", "P3M": "Quarterly", "P1Y": "Yearly", "P12M": "Yearly"}
# A recorded sats price is redone when the market moved by more than this (relative).
PRICE_RECORD_TOLERANCE = Decimal("0.01")


def plan_price(price: int, currency: str) -> str:
    """Minor units (msat for BTC) → BTCPay's decimal string in major units."""
    if currency == "BTC":
        amount = Decimal(price) / MSAT_PER_BTC
    else:
        amount = Decimal(price).scaleb(-minor_unit_exponent(currency))
    return format(amount.normalize(), "f")


def recurring_type(wanted: WantedListing) -> str | None:
    """BTCPay's billing interval for the pack; None when BTCPay has none for its period."""
    if wanted.billing_kind is BillingKind.ONE_TIME:
        return "Lifetime"
    return RECURRING_TYPES.get(wanted.billing_period or "")


def plan_fields(wanted: WantedListing, recurring: str) -> dict[str, Any]:
    return {
        "name": wanted.display_name,
        "description": wanted.description,
        "price": plan_price(wanted.price, wanted.currency),
        "currency": wanted.currency,
        "recurringType": recurring,
        "renewable": wanted.billing_kind is BillingKind.SUBSCRIPTION,
        "features": list(wanted.features),
        "metadata": {"slug": wanted.slug, "productId": wanted.product_id, "managedBy": MANAGED_BY},
    }


def _same(name: str, ours: Any, theirs: Any) -> bool:
    if name == "price":
        try:
            return Decimal(str(theirs)) == Decimal(ours)
        except ArithmeticError:
            return False
    return bool(ours == theirs)


class BtcpayCatalog:
    provider = Provider.LIGHTNING

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        store_id: str,
        api_key: str,
        oracle: PriceOracle | None,
        max_attempts: int = 4,
        backoff_initial_s: float = 0.5,
    ) -> None:
        self._http = http
        self._store = f"{base_url.rstrip('/')}/api/v1/stores/{store_id}"
        self._headers = {"Authorization": f"token {api_key}", "Accept": "application/json"}
        self._oracle = oracle
        self._max_attempts = max_attempts
        self._backoff_initial_s = backoff_initial_s
        self._offering: dict[str, Any] | None = None
        self._msat: dict[str, tuple[int, Decimal]] = {}  # product id → (msat, BTC price) for fiat packs

    async def divergences(self, wanted: Sequence[WantedListing]) -> list[Divergence]:
        offerings = await self._call("GET", "/offerings")
        self._offering = next(
            (o for o in offerings if (o.get("metadata") or {}).get("managedBy") == MANAGED_BY), None
        )
        await self._price_fiat_listings(wanted)
        found = [d for w in wanted if (d := self._divergence(w)) is not None]
        ours = {w.product_id for w in wanted}
        for plan in self._plans():
            product_id = (plan.get("metadata") or {}).get("productId")
            if product_id not in ours and plan.get("status") == "Active":
                problem = "an active plan of our offering, but no pack of ours is this product"
                found.append(Divergence(str(product_id or plan["id"]), [problem], repairable=False))
        return found

    async def _price_fiat_listings(self, wanted: Sequence[WantedListing]) -> None:
        self._msat = {}
        if self._oracle is None:
            return
        for listing in wanted:
            if listing.sell and listing.currency != "BTC":
                btc_price = await self._oracle.btc_price(listing.currency)
                msat = fiat_minor_to_msat(listing.price, listing.currency, btc_price)
                self._msat[listing.product_id] = (msat, btc_price)

    def learned_ids(self) -> dict[str, dict[str, Any]]:
        if self._offering is None:
            return {}
        ids: dict[str, dict[str, Any]] = {}
        for plan in self._plans():  # later plans of a product supersede earlier ones
            product_id = (plan.get("metadata") or {}).get("productId")
            if product_id and plan.get("status", "Active") == "Active":
                ids[str(product_id)] = {
                    "btcpay_offering_id": self._offering["id"],
                    "btcpay_plan_id": plan["id"],
                }
        return ids

    def _plans(self) -> list[dict[str, Any]]:
        return list((self._offering or {}).get("plans") or [])

    def _current_plan(self, wanted: WantedListing) -> dict[str, Any] | None:
        """The plan recorded for the listing, else the newest active plan carrying its product id."""
        plans = [p for p in self._plans() if (p.get("metadata") or {}).get("productId") == wanted.product_id]
        recorded = wanted.provider_ids.get("btcpay_plan_id")
        by_id = next((p for p in plans if p["id"] == recorded), None)
        active = [p for p in plans if p.get("status", "Active") == "Active"]
        return by_id or (active[-1] if active else None)

    def _divergence(self, wanted: WantedListing) -> Divergence | None:
        recurring = recurring_type(wanted)
        if recurring is None:
            if not wanted.sell:
                return None
            problem = (
                f"BTCPay plans bill Monthly, Quarterly, Yearly or Lifetime; {wanted.billing_period} cannot"
            )
            return Divergence(wanted.product_id, [problem], slug=wanted.slug, repairable=False)
        plan = self._current_plan(wanted)
        if plan is None:
            return Divergence(wanted.product_id, ["plan missing"], slug=wanted.slug) if wanted.sell else None
        if not wanted.sell:
            if plan.get("status", "Active") != "Active":
                return None
            problem = "plan still Active though the pack is not sold over Lightning (retire it in BTCPay)"
            return Divergence(wanted.product_id, [problem], slug=wanted.slug, repairable=False)
        problems = [
            f"plan {name}: ours {value!r}, BTCPay's {plan.get(name)!r}"
            for name, value in plan_fields(wanted, recurring).items()
            if not _same(name, value, plan.get(name))
        ]
        if plan.get("status", "Active") != "Active":
            problems.append("plan retired")
        problems += self._price_record_problems(wanted)
        return Divergence(wanted.product_id, problems, slug=wanted.slug) if problems else None

    def _price_record_problems(self, wanted: WantedListing) -> list[str]:
        if wanted.product_id not in self._msat:
            return []
        msat, _ = self._msat[wanted.product_id]
        recorded = wanted.provider_ids.get("price_msat")
        if recorded is None:
            return ["no sats price recorded"]
        if abs(Decimal(recorded) - msat) > PRICE_RECORD_TOLERANCE * msat:
            return [f"sats price record {recorded} msat, now {msat} msat"]
        return []

    async def repair(self, divergence: Divergence, wanted: WantedListing) -> Repair:
        recurring = recurring_type(wanted)
        if recurring is None:
            raise ProviderError(
                PROVIDER, f"{wanted.billing_period} has no BTCPay recurring type", retryable=False
            )
        actions: list[str] = []
        offering = await self._ensure_offering(wanted.features, actions)
        fields = plan_fields(wanted, recurring)
        plan = self._current_plan(wanted)
        if plan is None or plan.get("status", "Active") != "Active":
            plan = await self._create_plan(offering["id"], fields, actions)
        elif any(not _same(name, value, plan.get(name)) for name, value in fields.items()):
            plan = await self._update_plan(offering["id"], plan["id"], fields, actions)
        ids: dict[str, Any] = {"btcpay_offering_id": offering["id"], "btcpay_plan_id": plan["id"]}
        if wanted.product_id in self._msat:
            msat, btc_price = self._msat[wanted.product_id]
            ids |= {
                "price_msat": msat,
                "btc_price": str(btc_price),
                "priced_at": datetime.now(UTC).isoformat(),
            }
            if msat != wanted.provider_ids.get("price_msat"):
                actions.append(f"recorded sats price {msat} msat at {btc_price} {wanted.currency}/BTC")
        return Repair(actions, ids)

    async def _ensure_offering(self, features: list[str], actions: list[str]) -> dict[str, Any]:
        if self._offering is None:
            new: dict[str, Any] = {
                "appName": OFFERING_NAME,
                "metadata": {"managedBy": MANAGED_BY},
                "features": [],
            }
            self._offering = await self._call("POST", "/offerings", json=new)
            actions.append("created offering")
        offering = self._offering
        known = [f["id"] for f in offering.get("features") or []]
        missing = [f for f in features if f not in known]
        if missing:
            body: dict[str, Any] = {
                "appName": offering.get("appName") or OFFERING_NAME,
                "successRedirectUrl": offering.get("successRedirectUrl"),
                "metadata": offering.get("metadata") or {"managedBy": MANAGED_BY},
                "features": [
                    *(offering.get("features") or []),
                    *({"id": f, "description": f} for f in missing),
                ],
            }
            updated = await self._call("PUT", f"/offerings/{offering['id']}", json=body)
            self._offering = {
                **offering,
                **updated,
                "plans": offering.get("plans") or updated.get("plans") or [],
            }
            actions.append(f"added features {', '.join(missing)} to the offering")
        return self._offering

    async def _create_plan(
        self, offering_id: str, fields: dict[str, Any], actions: list[str]
    ) -> dict[str, Any]:
        plan: dict[str, Any] = await self._call("POST", f"/offerings/{offering_id}/plans", json=fields)
        if self._offering is not None:
            self._offering.setdefault("plans", []).append(plan)
        actions.append(f"created plan {plan['id']}")
        return plan

    async def _update_plan(
        self, offering_id: str, plan_id: str, fields: dict[str, Any], actions: list[str]
    ) -> dict[str, Any]:
        try:
            plan: dict[str, Any] = await self._call(
                "PUT", f"/offerings/{offering_id}/plans/{plan_id}", json=fields
            )
        except ProviderError as exc:
            if exc.status not in (404, 405):
                raise
            # Greenfield (as published) cannot edit a plan: sell a corrected one instead.
            replacement = await self._create_plan(offering_id, fields, actions)
            actions.append(f"plan {plan_id} superseded (retire it in BTCPay)")
            return replacement
        actions.append(f"updated plan {plan_id}")
        return plan

    async def _call(self, method: str, path: str, *, json: Any = None) -> Any:
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda e: isinstance(e, ProviderError) and e.retryable),
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=self._backoff_initial_s, max=30),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._call_once(method, path, json)
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def _call_once(self, method: str, path: str, json: Any) -> Any:
        url = f"{self._store}{path}"
        try:
            with provider_call("btcpay", method) as call:
                response = await self._http.request(method, url, json=json, headers=self._headers)
                call.answered(response.status_code)
        except httpx.TransportError as exc:
            raise ProviderError(PROVIDER, f"{method} {path}: {type(exc).__name__}", retryable=True) from exc
        if response.status_code >= 400:
            retryable = response.status_code >= 500 or response.status_code == 429
            message = f"{method} {path}: HTTP {response.status_code} {response.text[:200]}"
            raise ProviderError(PROVIDER, message, retryable=retryable, status=response.status_code)
        return response.json()
