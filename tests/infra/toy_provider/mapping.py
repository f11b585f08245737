"""What a toy event means for an entitlement; importing it makes ``toy`` a ``Provider``."""

from shared.domain.entitlements import EntitlementStatus, EntitlementUpdate
from shared.domain.provider import Provider
from tests.infra.toy_provider.delivery import NAME, ToyEvent

TOY = Provider.register(NAME)


def update_of(event: ToyEvent) -> EntitlementUpdate:
    """A purchase grants the pack until it is refunded; a refund revokes it."""
    status = EntitlementStatus.ACTIVE if event.type == "purchase" else EntitlementStatus.REVOKED
    return EntitlementUpdate(
        update_id=event.id,
        provider=TOY,
        provider_event_type=event.type,
        user_id=event.user_id,
        provider_product_id=event.product_id,
        purchase_reference=event.purchase_id,
        status=status,
        occurred_at=event.occurred_at,
        activated_at=event.occurred_at if status is EntitlementStatus.ACTIVE else None,
        reason="refunded" if status is EntitlementStatus.REVOKED else None,
    )
