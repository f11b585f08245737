"""Fixtures of the end-to-end tests beyond the session stack (``tests/conftest.py``)."""

import httpx
import pytest

from tests.conftest import Stack
from tests.infra.revenuecat import RevenueCatSandbox


@pytest.fixture
def rc(stack: Stack, http: httpx.AsyncClient) -> RevenueCatSandbox:
    """The RevenueCat sandbox of the session, driven as customers and stores would."""
    return RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
