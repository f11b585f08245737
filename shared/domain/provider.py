"""The billing providers behind the connector interface."""

from enum import StrEnum


class Provider(StrEnum):
    REVENUECAT = "revenuecat"
    LIGHTNING = "lightning"

    @classmethod
    def register(cls, value: str) -> "Provider":
        """The provider named ``value``, made a member if it is not one yet: for a plugin loaded from
        ``extra_providers`` (shared/connectors/registry.py), so its name parses wherever ours do."""
        if value in cls._value2member_map_:
            return cls(value)
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        cls._value2member_map_[value] = member
        cls._member_map_[member._name_] = member
        cls._member_names_.append(member._name_)
        return member
