"""What a secret is (its kind, how a new value is generated) and the secrets of our own.

Each provider declares its own secrets in its folder (``secret_specs``); the registry joins them with
``CORE_SECRET_SPECS`` into the one map the secret provider and ``billing secrets`` use.
"""

import base64
import secrets
from collections.abc import Callable, Mapping
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


SecretSpecs = Mapping[str, SecretSpec]

CORE_SECRET_SPECS: tuple[SecretSpec, ...] = (
    SecretSpec("ack_signing_secret", SecretKind.SIGNING, standard_webhooks_key),
    SecretSpec("marketplace_session_secret", SecretKind.SIGNING, lambda: secrets.token_urlsafe(32)),
    SecretSpec("admin_api_key", SecretKind.CREDENTIAL),
    SecretSpec("telemetry_pseudonym_secret", SecretKind.SIGNING, lambda: secrets.token_urlsafe(32)),
)


def spec_of(specs: SecretSpecs, name: str) -> SecretSpec:
    try:
        return specs[name]
    except KeyError:
        known = ", ".join(sorted(specs))
        raise LookupError(f"unknown secret {name!r}; known: {known}") from None
