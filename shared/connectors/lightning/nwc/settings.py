"""Alby Hub's settings sections: ``BILLING_NWC_<FIELD>`` (the wallet connection) and
``BILLING_ALBY_<FIELD>`` (its hosted webhooks)."""

from pydantic import BaseModel, SecretStr


class NwcSettings(BaseModel):
    """Nostr Wallet Connect to Alby Hub."""

    # nostr+walletconnect://<wallet pubkey>?relay=…&secret=…
    uri: SecretStr = SecretStr("")
    timeout_s: float = 10.0


class AlbySettings(BaseModel):
    """Alby's hosted webhooks (Standard Webhooks / Svix, "whsec_…")."""

    # previous = rotation window.
    webhook_secret: SecretStr = SecretStr("")
    webhook_secret_previous: SecretStr | None = None
