"""Secret age against the rotation policy (the seed's quarterly rotation, ``secret_max_age_days``).

A secret's age runs from the moment its current value was made current: ``billing secrets rotate``
records it beside the value (Vault's version time and the file's write time date older records).
A value set only in the environment has no such moment here; it is reported as of unknown age.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shared.security.secrets import SecretProvider


@dataclass(frozen=True)
class SecretAge:
    name: str
    age_s: float | None  # None: configured in the environment, age unknown


async def secret_ages(secrets: SecretProvider, names: Iterable[str], now: datetime) -> list[SecretAge]:
    """The age of every configured secret among ``names`` (unconfigured ones are left out)."""
    ages = []
    for name in sorted(names):
        if not await secrets.is_configured(name):
            continue
        rotated_at = (await secrets.versions(name)).rotated_at
        ages.append(SecretAge(name, None if rotated_at is None else (now - rotated_at).total_seconds()))
    return ages
