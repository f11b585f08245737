"""The fault suite's stack: private Kafka, PostgreSQL and Redis (never the shared ones, which other
sessions use), started once for the package; each scenario gets it back whole afterwards."""

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.infra.fault_scenarios import FIGURE_LINES
from tests.infra.fault_stack import FaultStack, fault_stack


@pytest.fixture(scope="package")
async def private_stack() -> AsyncIterator[FaultStack]:
    async with fault_stack() as stack:
        yield stack


@pytest.fixture
async def stack(private_stack: FaultStack, request: pytest.FixtureRequest) -> AsyncIterator[FaultStack]:
    """The shared fault stack; whatever a scenario killed or stopped is started again after it, and
    after a failed scenario every service is restarted, so a wedged process fails one scenario only."""
    await private_stack.restore()
    yield private_stack
    call = getattr(request.node, "rep_call", None)
    if call is None or call.failed:
        await private_stack.restart_services()
    await private_stack.restore()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURE_LINES:
        terminalreporter.section("fault suite figures")
        for line in FIGURE_LINES:
            terminalreporter.write_line(line)
