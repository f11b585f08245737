"""What an event adds to the rollups, and what the dashboard reads back from them (pure)."""

from datetime import UTC, datetime

from services.marketplace.dashboards_charts import bar_chart
from services.telemetry.rollups import Paid, RollupKey, counted_of_entitlement, webhook_to_entitlement
from shared.db.telemetry_reads import percentile_ms

MOMENT = datetime(2026, 12, 1, 14, 37, 5, tzinfo=UTC)
HOUR = datetime(2026, 12, 1, 14, tzinfo=UTC)


def _activation(provider: str, reference: str) -> dict[str, object]:
    data = {"pack_slug": "p", "source_provider": provider, "purchase_reference": reference}
    return {"id": "e1", "type": "entitlement.activated", "data": data}


def test_a_lightning_activation_is_a_settled_invoice_with_the_checkouts_amounts() -> None:
    counted = counted_of_entitlement(_activation("lightning", "hash"), MOMENT, Paid("USD", 499, 21_000))
    assert [(c.key, c.amount_minor, c.amount_msat) for c in counted] == [
        (RollupKey(HOUR, "entitlement.activated", "p", "lightning"), 0, 0),
        (RollupKey(HOUR, "invoice.settled", "p", "lightning", currency="USD"), 499, 21_000),
    ]


def test_a_revenuecat_activation_completes_a_checkout_even_without_a_known_price() -> None:
    counted = counted_of_entitlement(_activation("revenuecat", "tx-1"), MOMENT, None)
    assert [c.key.metric for c in counted] == ["entitlement.activated", "checkout.completed"]


def test_a_bundle_childs_activation_is_an_entitlement_but_no_second_purchase() -> None:
    counted = counted_of_entitlement(_activation("lightning", "bundle:b:hash"), MOMENT, None)
    assert [c.key.metric for c in counted] == ["entitlement.activated"]


def test_a_renewal_adds_nothing() -> None:
    renewal = {**_activation("revenuecat", "tx-1"), "type": "entitlement.renewed"}
    assert counted_of_entitlement(renewal, MOMENT, None) == []


def test_latency_falls_into_the_first_bucket_that_holds_it() -> None:
    received = datetime(2026, 12, 1, 14, 37, 4, 700_000, tzinfo=UTC)
    sample = webhook_to_entitlement(received, MOMENT, "lightning")
    assert (sample.latency_ms, sample.le_ms, sample.hour) == (300, 500, HOUR)


def test_percentiles_are_the_upper_bound_of_the_bucket_holding_the_rank() -> None:
    buckets = {100: 98, 1_000: 1, 10_000: 1}
    assert percentile_ms(buckets, 50) == 100
    assert percentile_ms(buckets, 99) == 1_000
    assert percentile_ms({}, 50) is None


def test_chart_labels_are_escaped() -> None:
    svg = bar_chart("t", [("<script>x</script>", 3)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
