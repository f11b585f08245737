"""Subscribers-API reads shared by the deliveries they can confirm (issue 12 §3).

RevenueCat sends a webhook after the change it reports, and ingest confirms every delivery by
re-reading the customer. A read that began after a delivery reached our gateway already shows that
delivery's change. So when a customer's deliveries queue up (a burst, or ingest catching up), the
first read confirms every delivery received before it began, and RevenueCat (which rate-limits this
API) is asked once instead of once per delivery. A delivery received after the last read began
always gets a read of its own.
"""

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.connectors.revenuecat.customer_info import CustomerInfo
from shared.observability.metrics import PROVIDER_READS_COALESCED

# The gateway stamps received-at, ingest times its reads: two clocks, maybe on two hosts. A read
# counts only if it began this much after the receipt, more than NTP-synchronised clocks drift apart.
CLOCK_SKEW_MARGIN_MS = 1000
# Customers remembered (the last read of each); beyond that the oldest is forgotten.
MAX_CUSTOMERS = 10_000


@dataclass(frozen=True)
class _Read:
    began_at_ms: int
    info: CustomerInfo


class CoalescedCustomerReads:
    def __init__(
        self,
        read: Callable[[str], Awaitable[CustomerInfo]],
        *,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self._read = read
        self._clock_ms = clock_ms
        self._last: OrderedDict[str, _Read] = OrderedDict()

    async def customer_info(self, app_user_id: str, *, received_at_ms: int | None) -> CustomerInfo:
        """The customer as a read that began after ``received_at_ms`` (plus the margin) saw them:
        the last one if it qualifies, else a new one. ``None``: the receipt is unknown, always read."""
        last = self._last.get(app_user_id)
        if received_at_ms is not None and last and last.began_at_ms >= received_at_ms + CLOCK_SKEW_MARGIN_MS:
            PROVIDER_READS_COALESCED.labels("revenuecat").inc()
            return last.info
        began_at_ms = self._clock_ms()
        info = await self._read(app_user_id)
        self._remember(app_user_id, _Read(began_at_ms, info))
        return info

    def _remember(self, app_user_id: str, read: _Read) -> None:
        last = self._last.get(app_user_id)
        if last and last.began_at_ms > read.began_at_ms:
            return  # a read that began later finished first: keep the newer view
        self._last[app_user_id] = read
        self._last.move_to_end(app_user_id)
        while len(self._last) > MAX_CUSTOMERS:
            self._last.popitem(last=False)
