"""Scraping a service's ``/metrics`` in tests: the samples as a lookup by name and labels."""

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from apps.stack.processes import SERVICES
from shared.observability.metrics_server import metrics_port_of
from shared.settings import Settings


@dataclass(frozen=True)
class Scrape:
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name`` with exactly ``labels``; 0 when the series does not exist yet."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def has(self, name: str) -> bool:
        return any(sample_name == name for sample_name, _ in self.samples)

    def where(self, name: str, **labels: str) -> list[float]:
        """Every sample ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return [v for (n, found), v in self.samples.items() if n == name and wanted <= found]


def metrics_urls(settings: Settings, gateway_url: str) -> dict[str, str]:
    """Where each service of a session stack serves Prometheus."""
    ports = {service: metrics_port_of(settings, service) for service in SERVICES if service != "gateway"}
    return {"gateway": f"{gateway_url}/metrics"} | {
        name: f"http://127.0.0.1:{port}/metrics" for name, port in ports.items()
    }


async def scrape(url: str) -> Scrape:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
    response.raise_for_status()
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    return Scrape(samples)
