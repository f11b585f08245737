"""Each provider's settings are a section of its own, read from the same flat env names as before."""

import pytest
from pydantic import SecretStr

from shared.connectors.lightning.btcpay.settings import BtcpaySettings
from shared.connectors.revenuecat.settings import RevenueCatSettings
from shared.core_settings import CoreSettings, flat_setting_names, flat_settings
from shared.settings import Settings

SECTIONS = ("revenuecat", "lightning", "btcpay", "nwc", "alby", "price_oracle")


def test_env_names_fill_the_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLING_REVENUECAT_API_BASE_URL", "http://rc.example")
    monkeypatch.setenv("BILLING_REVENUECAT_HTTP_MAX_ATTEMPTS", "7")
    monkeypatch.setenv("BILLING_PRICE_ORACLE_CACHE_TTL_S", "5")
    monkeypatch.setenv("BILLING_LIGHTNING_BACKEND", "nwc")
    monkeypatch.setenv("BILLING_GATEWAY_PORT", "18080")
    settings = Settings(_env_file=None)
    assert settings.revenuecat.api_base_url == "http://rc.example"
    assert settings.revenuecat.http_max_attempts == 7
    assert settings.price_oracle.cache_ttl_s == 5
    assert settings.lightning.backend == "nwc"
    assert settings.gateway_port == 18080


def test_flat_keywords_fill_the_sections_and_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BILLING_BTCPAY_BASE_URL", "http://from-env")
    monkeypatch.setenv("BILLING_BTCPAY_STORE_ID", "env-store")
    settings = Settings(_env_file=None, btcpay_store_id="kw-store", revenuecat_api_key="sk_kw")
    assert settings.btcpay == BtcpaySettings(base_url="http://from-env", store_id="kw-store")
    assert settings.revenuecat.api_key.get_secret_value() == "sk_kw"


def test_with_values_changes_a_section_field_and_keeps_the_rest() -> None:
    settings = Settings(_env_file=None, lightning_backend="btcpay", btcpay_base_url="http://b")
    changed = settings.with_values(lightning_backend="nwc", gateway_port=9)
    assert (changed.lightning.backend, changed.gateway_port, changed.btcpay.base_url) == (
        "nwc",
        9,
        "http://b",
    )
    assert settings.lightning.backend == "btcpay"


def test_flat_settings_round_trips_through_the_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Settings(
        _env_file=None,
        revenuecat_webhook_authorization="Bearer x",
        nwc_timeout_s=3.5,
        namespace="n.",
    )
    for name, value in flat_settings(original).items():
        if value is not None:
            shown = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            monkeypatch.setenv(f"BILLING_{name.upper()}", shown)
    assert Settings(_env_file=None) == original
    assert set(flat_settings(original)) == flat_setting_names(Settings)


def test_no_core_setting_is_named_like_a_section() -> None:
    """A core field ``<section>_…`` would be read into the section instead (the env names are split
    after the section's name)."""
    assert set(SECTIONS) == {name for name in Settings.model_fields if name not in CoreSettings.model_fields}
    assert not [name for name in CoreSettings.model_fields for s in SECTIONS if name.startswith(f"{s}_")]


def test_the_secret_names_of_sections_resolve_to_their_fields() -> None:
    settings = Settings(_env_file=None, revenuecat_webhook_authorization="Bearer s")
    assert (
        flat_settings(settings)["revenuecat_webhook_authorization"]
        == RevenueCatSettings(webhook_authorization=SecretStr("Bearer s")).webhook_authorization
    )
