"""One subscribers-API read confirms every delivery of that customer received before it began."""

import asyncio

from shared.connectors.revenuecat.customer_info import CustomerInfo
from shared.connectors.revenuecat.customer_reads import CLOCK_SKEW_MARGIN_MS, CoalescedCustomerReads
from shared.observability.metrics import PROVIDER_READS_COALESCED


def _info(marker: str) -> CustomerInfo:
    return CustomerInfo.model_validate(
        {"request_date_ms": 0, "subscriber": {"subscriptions": {}, "original_app_user_id": marker}}
    )


class FakeApi:
    """The subscribers API at a clock the test moves: each read answers the state at its start."""

    def __init__(self) -> None:
        self.now_ms = 1_000_000
        self.reads: list[str] = []

    async def read(self, app_user_id: str) -> CustomerInfo:
        self.reads.append(app_user_id)
        seen = _info(f"{app_user_id}@{self.now_ms}")
        self.now_ms += 5  # the read takes a while
        return seen


def _coalesced() -> float:
    return PROVIDER_READS_COALESCED.labels("revenuecat")._value.get()


def test_deliveries_received_before_a_read_began_share_it() -> None:
    api = FakeApi()
    reads = CoalescedCustomerReads(api.read, clock_ms=lambda: api.now_ms)
    backlog = [api.now_ms - 5000 + i for i in range(3)]  # three deliveries queued before ingest got to them
    before = _coalesced()

    async def confirm_all() -> list[CustomerInfo]:
        return [await reads.customer_info("rc_u1", received_at_ms=at) for at in backlog]

    infos = asyncio.run(confirm_all())
    assert api.reads == ["rc_u1"]
    assert len({info.subscriber.original_app_user_id for info in infos}) == 1
    assert _coalesced() == before + 2


def test_a_delivery_received_after_the_last_read_began_gets_a_read_of_its_own() -> None:
    api = FakeApi()
    reads = CoalescedCustomerReads(api.read, clock_ms=lambda: api.now_ms)

    async def scenario() -> None:
        first_read_began = api.now_ms
        await reads.customer_info("rc_u1", received_at_ms=first_read_began - 10_000)
        # Received after that read began (or within the clocks' margin of it): the read may predate it.
        await reads.customer_info("rc_u1", received_at_ms=first_read_began + 1)
        await reads.customer_info("rc_u1", received_at_ms=api.now_ms - CLOCK_SKEW_MARGIN_MS + 1)
        # Another customer never shares a read.
        await reads.customer_info("rc_u2", received_at_ms=first_read_began - 10_000)
        # Without a receipt time there is nothing to compare: always read.
        await reads.customer_info("rc_u2", received_at_ms=None)

    asyncio.run(scenario())
    assert api.reads == ["rc_u1", "rc_u1", "rc_u1", "rc_u2", "rc_u2"]
