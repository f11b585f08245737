"""Feature-flag gating: where a pack is sold (per provider, per market) and which features are on.

Flags are booleans keyed by scope, so they fit the seed's ``feature_flags`` jsonb column:

- ``provider.<provider>``: false hides the pack at that provider;
- ``market.<CC>`` / ``market.*``: false hides it in that ISO 3166 market (``*``: every market);
- ``provider.<provider>.market.<CC|*>``: the same, for one provider only;
- any other key is a plain flag; a plain flag named after one of the pack's features, set to
  false, switches that feature off (owners of the pack do not get it).

For one provider and market, provider-specific market flags come before global ones and an exact
market before ``*``; the first one set decides. Without any, a pack is available.
"""

import re
from collections.abc import Iterable, Mapping

from shared.domain.provider import Provider

PLAIN_FLAG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
MARKET = re.compile(r"^([A-Z]{2}|\*)$")
PROVIDERS = {p.value for p in Provider}


def flag_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid flag key, or None when it is."""
    parts = key.split(".")
    if parts[0] == "provider":
        if len(parts) < 2 or parts[1] not in PROVIDERS:
            return f"unknown provider in {key!r} (expected one of {sorted(PROVIDERS)})"
        if len(parts) == 2:
            return None
        if len(parts) == 4 and parts[2] == "market" and MARKET.match(parts[3]):
            return None
        return f"{key!r} must be provider.<provider> or provider.<provider>.market.<CC|*>"
    if parts[0] == "market":
        if len(parts) == 2 and MARKET.match(parts[1]):
            return None
        return f"{key!r} must be market.<CC> (ISO 3166 alpha-2, upper case) or market.*"
    if not PLAIN_FLAG.match(key):
        return f"{key!r} is not a flag name (lower case letters, digits, '_', '-', '.')"
    return None


def available_at(flags: Mapping[str, bool], provider: Provider, market: str | None = None) -> bool:
    """Whether the flags let the pack be sold at ``provider`` in ``market`` (None: any market)."""
    if not flags.get(f"provider.{provider.value}", True):
        return False
    markets = [market, "*"] if market else ["*"]
    scopes = (f"provider.{provider.value}.market.", "market.")
    candidates = [f"{scope}{m}" for scope in scopes for m in markets]
    for key in candidates:
        if key in flags:
            return flags[key]
    return True


def enabled_features(features: Iterable[str], flags: Mapping[str, bool]) -> list[str]:
    """The pack's features minus those a plain flag switches off."""
    return [feature for feature in features if flags.get(feature, True)]
