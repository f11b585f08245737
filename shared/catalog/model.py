"""A pack as authors write it (catalog file, admin API): the same schema in YAML and in JSON.

Prices are integer minor units of their currency (cents; millisatoshis for BTC). A bundle lists
child packs in ``bundle``; its price and provider prices may be left out, and are then the sum
of its children's.
"""

import contextlib
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.catalog.gating import flag_key_problem, flag_value_problem, is_rollout_key
from shared.domain.packs import BillingKind
from shared.domain.provider import Provider

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,98}$")]
FeatureName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
# ISO 8601 durations as stores use them: P1W, P1M, P3M, P1Y, P30D ...
Period = Annotated[str, Field(pattern=r"^P[1-9][0-9]{0,3}[DWMY]$")]


def _valid_flag_key(key: str) -> str:
    problem = flag_key_problem(key)
    if problem:
        raise ValueError(problem)
    return key


FlagKey = Annotated[str, AfterValidator(_valid_flag_key)]
_LAX_BOOL = TypeAdapter(bool)


def _valid_flag_values(flags: object) -> object:
    """Rollouts must be integer percentages; every other flag a boolean, read as leniently as before.

    Each problem is reported at its own key, so the catalog file names the flag and its line."""
    if not isinstance(flags, dict):
        return flags  # pydantic reports the wrong type
    checked: dict[object, object] = {}
    problems: list[InitErrorDetails] = []
    for key, value in flags.items():
        if isinstance(key, str) and not is_rollout_key(key):
            with contextlib.suppress(ValidationError):  # else flag_value_problem explains it
                value = _LAX_BOOL.validate_python(value)
        problem = flag_value_problem(key, value) if isinstance(key, str) else None
        if problem:
            error = PydanticCustomError("invalid_flag_value", "{problem}", {"problem": problem})
            problems.append(InitErrorDetails(type=error, loc=(key,), input=value))
        checked[key] = value
    if problems:
        raise ValidationError.from_exception_data("feature_flags", problems)
    return checked


FeatureFlags = Annotated[dict[FlagKey, StrictBool | StrictInt], BeforeValidator(_valid_flag_values)]


class PackVisuals(BaseModel):
    """How clients show the pack."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)] | None = None
    color: Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")] | None = None
    icon: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")] | None = None


class ListingSpec(BaseModel):
    """How the pack is sold at one provider; a bundle may leave ``price``/``currency`` to its children."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product_id: str = Field(min_length=1, max_length=200)
    price: int | None = Field(default=None, ge=0)
    currency: Currency | None = None


class PackSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    display_name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    features: list[FeatureName] = Field(default_factory=list)
    feature_flags: FeatureFlags = Field(default_factory=dict)
    price: int | None = Field(default=None, ge=0)
    currency: Currency = "USD"
    billing_kind: BillingKind = BillingKind.ONE_TIME
    billing_period: Period | None = None
    visuals: PackVisuals = Field(default_factory=PackVisuals)
    providers: dict[Provider, ListingSpec] = Field(default_factory=dict)
    bundle: list[Slug] = Field(default_factory=list)
    active: bool = True

    @field_validator("features", "bundle")
    @classmethod
    def _no_duplicates(cls, values: list[str]) -> list[str]:
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ValueError(f"listed more than once: {', '.join(duplicates)}")
        return values

    @property
    def is_bundle(self) -> bool:
        return bool(self.bundle)
