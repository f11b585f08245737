"""RevenueCat's truth for ``billing reconcile``: the customer's snapshot, product by product."""

from shared.connectors.base import ProviderResources
from shared.connectors.revenuecat.adapter import RevenueCatAdapter
from shared.connectors.revenuecat.events import ms_to_datetime
from shared.connectors.revenuecat.pack_mapping import pack_ids_by_product
from shared.connectors.revenuecat.snapshot import product_states
from shared.connectors.revenuecat.users import app_user_id_for
from shared.domain.reconciliation import ProviderTruth


async def revenuecat_truth(
    user_id: str, adapter: RevenueCatAdapter, resources: ProviderResources
) -> list[ProviderTruth]:
    """Every product we sell that the subscribers API shows for ``rc_<user>``, as the webhooks read it."""
    async with resources.sessions() as session:
        sold = set(await pack_ids_by_product(session))
    info = await adapter.customer_info(app_user_id_for(user_id))
    observed_at = ms_to_datetime(info.request_date_ms)
    return [
        ProviderTruth(
            user_id=user_id,
            provider_product_id=product,
            purchase_reference=product,  # one subscription state per (customer, product)
            status=state.status,
            observed_at=observed_at,
            activated_at=state.activated_at,
            expires_at=state.expires_at,
            reason=state.reason,
        )
        for product, state in sorted(product_states(info).items())
        if product in sold
    ]
