"""Checkout sessions as recorded when the gateway hands one out."""

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import CheckoutSessionRecord
from shared.domain.checkout import CheckoutSession


async def record_checkout_session(session: AsyncSession, checkout: CheckoutSession, pack_id: object) -> None:
    session.add(
        CheckoutSessionRecord(
            id=checkout.id,
            user_id=checkout.user_id,
            catalog_id=pack_id,
            provider=checkout.provider.value,
            purchase_reference=checkout.purchase_reference,
            status="open",
            expires_at=checkout.expires_at,
            details=checkout.model_dump(mode="json", by_alias=True),
        )
    )
