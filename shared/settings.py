"""Every setting of the billing services: the core ones and one section per provider.

A section is a pydantic model in its provider's folder. Outside Python its fields keep flat names,
``<section>_<field>``: the env ``BILLING_REVENUECAT_API_KEY``, the keyword
``Settings(revenuecat_api_key=…)`` and ``flat_settings(settings)["revenuecat_api_key"]`` are all
``settings.revenuecat.api_key``."""

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, model_validator

from shared.connectors.lightning.btcpay.settings import BtcpaySettings
from shared.connectors.lightning.nwc.settings import AlbySettings, NwcSettings
from shared.connectors.lightning.pricing.settings import PriceOracleSettings
from shared.connectors.lightning.settings import LightningSettings
from shared.connectors.revenuecat.settings import RevenueCatSettings
from shared.core_settings import CoreSettings, flat_settings, is_section


class Settings(CoreSettings):
    """The core settings and every provider's section."""

    revenuecat: RevenueCatSettings = RevenueCatSettings()
    lightning: LightningSettings = LightningSettings()
    btcpay: BtcpaySettings = BtcpaySettings()
    nwc: NwcSettings = NwcSettings()
    alby: AlbySettings = AlbySettings()
    price_oracle: PriceOracleSettings = PriceOracleSettings()

    @model_validator(mode="before")
    @classmethod
    def _sections_from_flat_names(cls, values: Any) -> Any:
        """``<section>_<field>=…`` keywords into their section, as the env names are read; a flat
        keyword wins over the section's env value (keywords come before the environment)."""
        if not isinstance(values, dict):
            return values
        values = dict(values)
        sections = [name for name, field in cls.model_fields.items() if is_section(field.annotation)]
        for name in sorted(sections, key=len, reverse=True):
            prefix = f"{name}_"
            flat = {key[len(prefix) :]: values.pop(key) for key in list(values) if key.startswith(prefix)}
            if flat:
                section = values.get(name) or {}
                if isinstance(section, BaseModel):
                    section = section.model_dump()
                values[name] = {**section, **flat}
        return values

    def with_values(self, **changes: object) -> "Settings":
        """A copy with ``changes`` (flat names, as the constructor takes them) validated in."""
        return type(self).model_validate({**flat_settings(self), **changes})


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
