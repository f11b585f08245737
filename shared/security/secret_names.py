"""Every secret the services use, by name, with what kind it is and how a new value is generated."""

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class SecretKind(StrEnum):
    # Verifies provider webhooks; current and previous both verify during a rotation window.
    WEBHOOK = "webhook"
    # Signs what we send; only the current value signs, the previous still verifies in its window.
    SIGNING = "signing"
    # A credential we present to a provider; its value comes from the provider, never generated.
    CREDENTIAL = "credential"


def standard_webhooks_key() -> str:
    """A Standard Webhooks symmetric key: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def bearer_value() -> str:
    return f"Bearer {secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class SecretSpec:
    name: str
    kind: SecretKind
    # None = the provider issues the value; rotate it with --value-stdin.
    generate: Callable[[], str] | None = None


SECRET_SPECS: dict[str, SecretSpec] = {
    spec.name: spec
    for spec in (
        SecretSpec("revenuecat_webhook_authorization", SecretKind.WEBHOOK, bearer_value),
        SecretSpec("btcpay_webhook_secret", SecretKind.WEBHOOK, lambda: secrets.token_urlsafe(32)),
        SecretSpec("alby_webhook_secret", SecretKind.WEBHOOK, standard_webhooks_key),
        SecretSpec("ack_signing_secret", SecretKind.SIGNING, standard_webhooks_key),
        SecretSpec("marketplace_session_secret", SecretKind.SIGNING, lambda: secrets.token_urlsafe(32)),
        SecretSpec("revenuecat_api_key", SecretKind.CREDENTIAL),
        SecretSpec("revenuecat_api_v2_key", SecretKind.CREDENTIAL),
        SecretSpec("btcpay_api_key", SecretKind.CREDENTIAL),
        SecretSpec("nwc_uri", SecretKind.CREDENTIAL),
        SecretSpec("admin_api_key", SecretKind.CREDENTIAL),
    )
}


def spec_of(name: str) -> SecretSpec:
    try:
        return SECRET_SPECS[name]
    except KeyError:
        known = ", ".join(sorted(SECRET_SPECS))
        raise LookupError(f"unknown secret {name!r}; known: {known}") from None
