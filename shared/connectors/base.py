"""The connector interface every billing provider implements."""

from collections.abc import Sequence
from typing import Any, Protocol

from shared.domain.checkout import CheckoutInput, CheckoutSession
from shared.domain.entitlements import EntitlementUpdate
from shared.domain.packs import MicroSaasPack


class ProviderError(Exception):
    """A provider call failed; ``retryable`` says whether trying again may help."""

    def __init__(self, provider: str, message: str, *, retryable: bool, status: int | None = None):
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.retryable = retryable
        self.status = status


class BillingConnector(Protocol):
    async def sync_catalog(self, packs: Sequence[MicroSaasPack]) -> Any:
        """Make the provider's catalog equal to ours; returns a report of what differed."""

    async def create_checkout_session(self, checkout: CheckoutInput, pack: MicroSaasPack) -> CheckoutSession:
        """Start a purchase of ``pack`` for the user."""

    async def validate_receipt(self, event: Any) -> list[EntitlementUpdate]:
        """Confirm a provider event against the provider's own state; the authoritative updates."""

    async def revoke_entitlement(self, user_id: str, purchase_reference: str, reason: str) -> None:
        """Withdraw an entitlement the provider no longer honours."""
