"""Which providers the sync reconciles: each configured provider with a catalog of its own, reached
through its connector's ``sync_catalog``."""

from shared.connectors.base import BillingConnector, ProviderResources
from shared.connectors.registry import configured_providers
from shared.domain.provider import Provider


def build_provider_catalogs(resources: ProviderResources) -> dict[Provider, BillingConnector]:
    plugins = configured_providers(resources.settings).values()
    return {
        plugin.provider: plugin.connector(resources)
        for plugin in plugins
        if plugin.catalog(resources) is not None
    }
