"""Markets are countries: ISO 3166-1 alpha-2 codes, checked against pycountry's copy of the standard."""

import pycountry


def market_code(value: str) -> str | None:
    """``value`` as an assigned ISO 3166-1 alpha-2 code in upper case (``de`` → ``DE``), else None."""
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        return None
    code = value.upper()
    return code if pycountry.countries.get(alpha_2=code) is not None else None
