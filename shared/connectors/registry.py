"""Every billing provider the product knows: a new provider adds its folder and one line here.

What providers declare is joined here with our own: secrets, personal-data tables, raw payloads.
A deployment (or the tests) may add plugins of its own by module path: ``extra_providers``.
"""

import importlib

from shared.connectors.base import ProviderPlugin
from shared.connectors.lightning.provider import LIGHTNING
from shared.connectors.revenuecat.provider import REVENUECAT
from shared.db.pruning import ProviderDedupeRows
from shared.domain.provider import Provider
from shared.security.personal_data import CORE_PERSONAL_DATA, PersonalDataMap
from shared.security.retention import RawPayloadColumn
from shared.security.secret_names import CORE_SECRET_SPECS, SecretSpec
from shared.settings import Settings

REGISTERED_PROVIDERS: list[ProviderPlugin] = [REVENUECAT, LIGHTNING]


def load_extra_providers(settings: Settings) -> None:
    """Register the plugins ``settings.extra_providers`` names (comma-separated modules, each with a
    ``PROVIDER``), once per process: the process entry and the bootstrap call it before anything
    reads the registry."""
    for module in filter(None, (name.strip() for name in settings.extra_providers.split(","))):
        plugin: ProviderPlugin = importlib.import_module(module).PROVIDER
        if plugin not in REGISTERED_PROVIDERS:
            REGISTERED_PROVIDERS.append(plugin)


def configured_providers(settings: Settings) -> dict[Provider, ProviderPlugin]:
    """The providers this deployment sells through, by name."""
    return {plugin.provider: plugin for plugin in REGISTERED_PROVIDERS if plugin.is_configured(settings)}


def secret_specs() -> dict[str, SecretSpec]:
    specs = [*CORE_SECRET_SPECS, *(s for p in REGISTERED_PROVIDERS for s in p.secret_specs)]
    return {spec.name: spec for spec in specs}


def personal_data_map() -> PersonalDataMap:
    provider_tables = tuple(t for p in REGISTERED_PROVIDERS for t in p.personal_data)
    return PersonalDataMap(
        tables=(*CORE_PERSONAL_DATA, *provider_tables),
        provider_user_ids=tuple(p.user_id_at_provider for p in REGISTERED_PROVIDERS),
    )


def raw_payload_columns() -> tuple[RawPayloadColumn, ...]:
    return tuple(c for p in REGISTERED_PROVIDERS for c in p.raw_payloads)


def provider_dedupe_rows() -> tuple[ProviderDedupeRows, ...]:
    return tuple(rows for p in REGISTERED_PROVIDERS for rows in p.dedupe_rows)
