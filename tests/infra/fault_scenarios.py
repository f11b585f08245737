"""The shape every fault scenario shares: load, one fault mid-run, quiescence, figures.

Also webhooks a scenario posts straight to the gateway during an outage (to see what it answers
while a dependency is down), and the figure lines collected for the terminal summary.
"""

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import orjson

from tests.infra.fault_checks import Settled, dead_letters, settle
from tests.infra.fault_load import LoadDriver
from tests.infra.fault_stack import FaultStack
from tests.infra.revenuecat import revenuecat_event

FIGURE_LINES: list[str] = []


@dataclass
class Outcome:
    driver: LoadDriver
    settled: Settled
    healed_at: float  # time.monotonic() when the fault ended


async def run_under_fault(
    stack: FaultStack,
    name: str,
    fault: Callable[[], Awaitable[None]],
    *,
    at_s: float = 6.0,
    duration_s: float = 20.0,
    timeout_s: float = 240.0,
    driver: LoadDriver | None = None,
) -> Outcome:
    """Load for ``duration_s`` with ``fault`` started at ``at_s`` (it returns once healed), then settle."""
    driver = driver or LoadDriver(stack, f"{name}-{uuid.uuid4().hex[:6]}")
    before = dead_letters(stack)
    healed: list[float] = []

    async def inject() -> None:
        await fault()
        healed.append(time.monotonic())

    await driver.run(duration_s, [(at_s, inject)])
    settled = await settle(driver, name, healed_at=healed[0], dead_letters_before=before, timeout_s=timeout_s)
    record(stack, settled.figures.report())
    return Outcome(driver, settled, healed[0])


def record(stack: FaultStack, text: str) -> None:
    """Print a figure line and keep it for the session's summary and its log folder."""
    print(text)
    FIGURE_LINES.append(text)
    with (stack.processes.log_dir / "figures.txt").open("a") as out:
        out.write(text + "\n")


@dataclass(frozen=True)
class DirectAnswer:
    event_id: str
    status: int | None  # None: no answer (connection refused or timed out)
    answered_at: float  # time.monotonic()
    body: bytes


async def post_trigger(
    stack: FaultStack, app_user_id: str, product: str, *, authorization: str | None = None
) -> DirectAnswer:
    """A RevenueCat webhook for a customer the sandbox knows, posted straight to the gateway."""
    event = revenuecat_event("RENEWAL", app_user_id=app_user_id, product_id=product)
    headers = {
        "Authorization": authorization or stack.settings.revenuecat.webhook_authorization.get_secret_value(),
        "Content-Type": "application/json",
    }
    url = f"{stack.gateway_url}/v1/webhooks/revenuecat"
    try:
        response = await stack.http.post(url, content=orjson.dumps(event), headers=headers, timeout=90)
        status: int | None = response.status_code
        body = response.content
    except httpx.HTTPError as exc:  # no answer: connection refused, reset or timed out
        status, body = None, type(exc).__name__.encode()
    return DirectAnswer(event["event"]["id"], status, time.monotonic(), body)


class DirectPoster:
    """Posts one trigger every ``every_s`` from ``start()`` until ``stop()``; ``answers()`` waits for all.

    Stopping first and collecting later lets a scenario heal the dependency in between, so a gateway
    that holds requests while it is down cannot keep the outage going.
    """

    def __init__(
        self, stack: FaultStack, driver: LoadDriver, *, every_s: float = 0.5, authorization: str | None = None
    ) -> None:
        self._stack, self._driver = stack, driver
        self._every_s, self._authorization = every_s, authorization
        self._stop = asyncio.Event()
        self._posts: list[asyncio.Task[DirectAnswer]] = []
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.create_task(self._post_until_stopped())

    async def stop(self) -> None:
        self._stop.set()
        if self._loop is not None:
            await self._loop

    async def wait_answered(self, timeout_s: float) -> None:
        """Give the posts up to ``timeout_s`` to be answered (the outage lasts meanwhile)."""
        if self._posts:
            await asyncio.wait(self._posts, timeout=timeout_s)

    async def answers(self) -> list[DirectAnswer]:
        return list(await asyncio.gather(*self._posts))

    async def _post_until_stopped(self) -> None:
        customers = sorted(self._driver.load.revenuecat_customers.items())
        while not self._stop.is_set():
            app_user_id, product = self._driver.load.rng.choice(customers)
            post = post_trigger(self._stack, app_user_id, product, authorization=self._authorization)
            self._posts.append(asyncio.create_task(post))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._every_s)
