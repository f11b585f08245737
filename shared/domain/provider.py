"""The billing providers behind the connector interface."""

from enum import StrEnum


class Provider(StrEnum):
    REVENUECAT = "revenuecat"
    LIGHTNING = "lightning"
