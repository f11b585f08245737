"""Where each consumer serves Prometheus (``GET /metrics``); the gateway serves it on its own port.

Defaults differ per service so the services of ``billing up`` never collide (docs/runbook.md lists
them); ``metrics_port``, when set, is every consumer's port (one service per container or pod).
"""

import structlog
from prometheus_client import start_http_server

from shared.core_settings import CoreSettings

log = structlog.get_logger(__name__)


def metrics_port_of(settings: CoreSettings, service: str) -> int:
    """The port a consumer (ingest, worker, catalog-sync, telemetry) serves metrics on; 0 = none."""
    if settings.metrics_port:
        return settings.metrics_port
    return {
        "ingest": settings.ingest_metrics_port,
        "worker": settings.worker_metrics_port,
        "catalog-sync": settings.catalog_sync_metrics_port,
        "telemetry": settings.telemetry_metrics_port,
    }[service]


def serve_metrics(settings: CoreSettings, service: str) -> None:
    """Start the metrics server; a port another instance holds (a second worker beside the first on
    one machine) leaves this one without metrics rather than without the service."""
    port = metrics_port_of(settings, service)
    if not port:
        return
    try:
        start_http_server(port, addr=settings.gateway_host)
    except OSError as exc:
        log.warning("metrics_port_unavailable", service=service, port=port, error=str(exc))
