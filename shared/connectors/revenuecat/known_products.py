"""The RevenueCat products we sell, as ingest needs them for every delivery (issue 12 §3).

Reading the catalog's listings for each delivery was a third of ingest's time (bench/README.md). The
set read is kept for ``TTL_S``. A delivery that names or shows a product not in it reads the catalog
again at once, so a pack listed a moment ago is never missed; a listing removed within the last
``TTL_S`` may still be taken as sold (the worker then dead-letters the update as a catalog gap, as it
already does when the removal lands between ingest and the worker).
"""

import time
from collections.abc import Awaitable, Callable, Collection

TTL_S = 1.0


class KnownProducts:
    def __init__(
        self, load: Callable[[], Awaitable[frozenset[str]]], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._load = load
        self._clock = clock
        self._known: frozenset[str] | None = None
        self._read_at = 0.0

    async def including(self, products: Collection[str]) -> frozenset[str]:
        """The products we sell, read again if older than ``TTL_S`` or if ``products`` has one it lacks."""
        now = self._clock()
        known = self._known
        if known is None or now - self._read_at > TTL_S or not known.issuperset(products):
            known = await self._load()
            self._known, self._read_at = known, now
        return known
