"""Feature-flag gating: where a pack is sold (per provider, per market, to which share of users) and
which features are on.

Flags are keyed by scope, so they fit the seed's ``feature_flags`` jsonb column:

- ``provider.<provider>``: false hides the pack at that provider and refuses its checkouts there —
  the pack's kill switch for that provider (its webhooks are still processed: only listing and
  checkout read flags);
- ``market.<CC>`` / ``market.*``: false hides it in that ISO 3166-1 market (``*``: every market);
- ``provider.<provider>.market.<CC|*>``: the same, for one provider only;
- ``rollout.<provider>`` / ``rollout.<provider>.market.<CC>``: an integer percentage 0..100 of users
  who may buy it at that provider (in that market); a stable hash of the user id decides
  (``shared/catalog/rollout.py``);
- any other key is a plain flag; a plain flag named after one of the pack's features, set to
  false, switches that feature off (owners of the pack do not get it).

For one provider and market, provider-specific market flags come before global ones and an exact
market before ``*``; the first one set decides. A market's rollout comes before the provider's.
Without any, a pack is available to everyone.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from shared.catalog.rollout import admitted
from shared.domain.markets import market_code
from shared.domain.provider import Provider

FlagValue = bool | int  # int only for rollout.* keys
Flags = Mapping[str, FlagValue]
PLAIN_FLAG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
PROVIDERS = {p.value for p in Provider}


class Refusal(StrEnum):
    """Why the flags refuse a sale."""

    PROVIDER_OFF = "provider_off"
    MARKET_OFF = "market_off"
    NOT_IN_ROLLOUT = "not_in_rollout"


@dataclass(frozen=True)
class SaleDecision:
    """Whether a pack may be sold; when not, why and the flag that decided."""

    refusal: Refusal | None = None
    flag: str | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def sale_decision(
    flags: Flags, provider: Provider, market: str | None = None, user_id: str | None = None
) -> SaleDecision:
    """May ``user_id`` buy the pack at ``provider`` in ``market``? (None: market unknown, so only
    ``*`` market flags apply; no user, so only a 100 % rollout admits.)"""
    refused = _gate_refusal(flags, provider, market)
    if refused is not None:
        return refused
    rollout = _deciding_key(flags, _rollout_keys(provider, market))
    if rollout is not None and not admitted(rollout, int(flags[rollout]), user_id):
        return SaleDecision(Refusal.NOT_IN_ROLLOUT, rollout)
    return SaleDecision()


def available_at(flags: Flags, provider: Provider, market: str | None = None) -> bool:
    """Whether the provider and market flags let the pack be sold at ``provider`` (rollouts aside:
    the provider keeps selling it, to the users a rollout admits)."""
    return _gate_refusal(flags, provider, market) is None


def enabled_features(features: Iterable[str], flags: Flags) -> list[str]:
    """The pack's features minus those a plain flag switches off."""
    return [feature for feature in features if flags.get(feature, True)]


def is_rollout_key(key: str) -> bool:
    return key.split(".", 1)[0] == "rollout"


def flag_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid flag key, or None when it is."""
    parts = key.split(".")
    if parts[0] in ("provider", "rollout"):
        return _scoped_key_problem(key, parts)
    if parts[0] == "market":
        if len(parts) == 2 and _is_market(parts[1], wildcard=True):
            return None
        return f"{key!r} must be market.<CC> (an ISO 3166-1 alpha-2 code, upper case) or market.*"
    if not PLAIN_FLAG.match(key):
        return f"{key!r} is not a flag name (lower case letters, digits, '_', '-', '.')"
    return None


def flag_value_problem(key: str, value: object) -> str | None:
    """Why ``value`` cannot be the value of flag ``key``: rollouts are integer percentages 0..100."""
    if not is_rollout_key(key):
        return None if isinstance(value, bool) else f"{key}: must be true or false"
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        return f"{key}: must be an integer percentage from 0 to 100, not {value!r}"
    return None


def _gate_refusal(flags: Flags, provider: Provider, market: str | None) -> SaleDecision | None:
    provider_key = f"provider.{provider.value}"
    if not flags.get(provider_key, True):
        return SaleDecision(Refusal.PROVIDER_OFF, provider_key)
    markets = [market, "*"] if market else ["*"]
    scopes = (f"provider.{provider.value}.market.", "market.")
    market_key = _deciding_key(flags, [f"{scope}{m}" for scope in scopes for m in markets])
    if market_key is not None and not flags[market_key]:
        return SaleDecision(Refusal.MARKET_OFF, market_key)
    return None


def _rollout_keys(provider: Provider, market: str | None) -> list[str]:
    general = f"rollout.{provider.value}"
    return [f"{general}.market.{market}", general] if market else [general]


def _deciding_key(flags: Flags, candidates: Iterable[str]) -> str | None:
    return next((key for key in candidates if key in flags), None)


def _scoped_key_problem(key: str, parts: list[str]) -> str | None:
    """``provider.<p>[.market.<CC|*>]`` or ``rollout.<p>[.market.<CC>]``."""
    scope = parts[0]
    if len(parts) < 2 or parts[1] not in PROVIDERS:
        return f"unknown provider in {key!r} (expected one of {sorted(PROVIDERS)})"
    if len(parts) == 2:
        return None
    wildcard = scope == "provider"  # rollout.<p> already is every market's rollout
    if len(parts) == 4 and parts[2] == "market" and _is_market(parts[3], wildcard=wildcard):
        return None
    markets = "<CC|*>" if wildcard else "<CC>"
    return f"{key!r} must be {scope}.<provider> or {scope}.<provider>.market.{markets} (ISO 3166-1 alpha-2)"


def _is_market(text: str, *, wildcard: bool) -> bool:
    return (wildcard and text == "*") or market_code(text) == text
