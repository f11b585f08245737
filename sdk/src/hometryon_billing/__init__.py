"""Client of the HomeTryOn Billing gateway: typed sync/async clients and a local entitlement cache."""

from hometryon_billing.cache.entitlement_cache import Decision, EntitlementCache
from hometryon_billing.cache.freshness import Bounds, Lag, Phase
from hometryon_billing.client import AsyncBillingClient, BillingClient
from hometryon_billing.errors import BillingApiError, CacheNotReadyError, UnknownUserError
from hometryon_billing.models import (
    CheckoutInput,
    CheckoutSession,
    Entitlement,
    FeatureCheck,
    Pack,
    RevokeByReference,
    UserEntitlements,
)

__all__ = [
    "AsyncBillingClient",
    "BillingApiError",
    "BillingClient",
    "Bounds",
    "CacheNotReadyError",
    "CheckoutInput",
    "CheckoutSession",
    "Decision",
    "Entitlement",
    "EntitlementCache",
    "FeatureCheck",
    "Lag",
    "Pack",
    "Phase",
    "RevokeByReference",
    "UnknownUserError",
    "UserEntitlements",
]
