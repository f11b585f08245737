"""Fiat → msat conversion (Decimal, rounded up), ISO 8601 periods, and LNURL-pay metadata."""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from lnurl import url_decode

from shared.connectors.lightning.lnurl_pay import description_hash, pay_metadata, session_lnurl
from shared.connectors.lightning.periods import add_period
from shared.connectors.lightning.pricing.conversion import fiat_minor_to_msat, round_up_to_sat
from shared.connectors.lightning.pricing.sources import parse_coingecko_price


def test_fiat_price_converts_to_msat_rounded_up() -> None:
    # $4.99 at $65,000/BTC = 7,676,923.07… msat: the payer never pays less than the price.
    assert fiat_minor_to_msat(499, "USD", Decimal("65000.00")) == 7_676_924


def test_zero_decimal_currency_uses_whole_units() -> None:
    assert fiat_minor_to_msat(1000, "JPY", Decimal("10000000")) == 10_000_000


def test_non_positive_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        fiat_minor_to_msat(499, "USD", Decimal(0))


@pytest.mark.parametrize(("msat", "expected"), [(7_676_924, 7_677_000), (7_677_000, 7_677_000), (1, 1000)])
def test_satoshi_priced_back_ends_round_up_to_a_whole_satoshi(msat: int, expected: int) -> None:
    assert round_up_to_sat(msat) == expected


def test_coingecko_price_is_read_as_an_exact_decimal() -> None:
    assert parse_coingecko_price(b'{"bitcoin": {"usd": 65000.123456789}}', "usd") == Decimal(
        "65000.123456789"
    )


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), "P1M", datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 11, 15, tzinfo=UTC), "P1M", datetime(2026, 12, 15, tzinfo=UTC)),
        (datetime(2026, 12, 15, tzinfo=UTC), "P1Y", datetime(2027, 12, 15, tzinfo=UTC)),
        (datetime(2026, 1, 1, tzinfo=UTC), "P1W", datetime(2026, 1, 8, tzinfo=UTC)),
        (datetime(2026, 1, 1, tzinfo=UTC), "PT2S", datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)),
    ],
)
def test_period_is_added_calendar_aware(start: datetime, period: str, expected: datetime) -> None:
    assert add_period(start, period) == expected


@pytest.mark.parametrize("period", ["", "P", "1M", "P1X", "PT"])
def test_malformed_period_is_refused(period: str) -> None:
    with pytest.raises(ValueError):
        add_period(datetime(2026, 1, 1, tzinfo=UTC), period)


def test_lnurl_pay_metadata_hash_is_sha256_of_the_exact_string() -> None:
    metadata = pay_metadata("HomeTryOn Colour Match")

    assert json.loads(metadata) == [["text/plain", "HomeTryOn Colour Match"]]
    assert description_hash(metadata) == hashlib.sha256(metadata.encode()).hexdigest()


def test_session_lnurl_encodes_the_pay_request_url() -> None:
    lnurl = session_lnurl("https://billing.example.com/", "abc")

    assert lnurl.startswith("LNURL1")
    assert url_decode(lnurl) == "https://billing.example.com/v1/lnurl/pay/abc"
