"""Every billing provider the product knows: a new provider adds its folder and one line here.

What providers declare is joined here with our own: secrets, personal-data tables, raw payloads.
"""

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
