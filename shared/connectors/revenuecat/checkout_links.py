"""RevenueCat-hosted checkout: Web Purchase Links, our hosted paywall when a pack has none, and the
checkout's metadata as customer attributes."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode


def web_purchase_link(base_url: str, token: str, app_user_id: str, email: str | None = None) -> str:
    """``<base>/<token>/<url-encoded app user id>``, as the dashboard hands links out (providers.md §1.6)."""
    url = f"{base_url.rstrip('/')}/{quote(token, safe='')}/{quote(app_user_id, safe='')}"
    return f"{url}?{urlencode({'email': email})}" if email else url


def hosted_paywall_url(paywall_url: str, pack_slug: str, app_user_id: str) -> str:
    """Our own paywall page for the pack, identifying the buyer by app user id."""
    separator = "&" if "?" in paywall_url else "?"
    return f"{paywall_url}{separator}{urlencode({'pack': pack_slug, 'app_user_id': app_user_id})}"


def checkout_attributes(metadata: Mapping[str, str], updated_at_ms: int) -> dict[str, Any]:
    """``POST /v1/subscribers/{id}/attributes`` body: each metadata entry as a custom attribute.

    Set before the buyer pays, so the purchase's webhooks and CustomerInfo carry them.
    """
    return {
        "attributes": {
            key: {"value": value, "updated_at_ms": updated_at_ms} for key, value in metadata.items()
        }
    }
