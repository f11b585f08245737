"""Operational endpoints an SRE relies on."""

import httpx

from tests.conftest import Stack


async def test_readiness_reports_every_dependency_up(stack: Stack, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{stack.gateway_url}/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "postgres": "ok", "redis": "ok", "kafka": "ok"}


async def test_metrics_count_rejected_webhooks(stack: Stack, http: httpx.AsyncClient) -> None:
    def rejected(text: str) -> float:
        for line in text.splitlines():
            if line.startswith(
                'billing_webhooks_received_total{outcome="unauthorized",provider="revenuecat"}'
            ):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = rejected((await http.get(f"{stack.gateway_url}/metrics")).text)
    await http.post(f"{stack.gateway_url}/v1/webhooks/revenuecat", json={}, headers={"Authorization": "x"})
    after = rejected((await http.get(f"{stack.gateway_url}/metrics")).text)
    assert after == before + 1
