"""Which provider catalogs the sync reconciles: each configured provider's own (None: it has none)."""

from shared.catalog.provider_catalog import ProviderCatalog
from shared.connectors.base import ProviderResources
from shared.connectors.registry import configured_providers


def build_provider_catalogs(resources: ProviderResources) -> list[ProviderCatalog]:
    plugins = configured_providers(resources.settings).values()
    return [catalog for plugin in plugins if (catalog := plugin.catalog(resources)) is not None]
