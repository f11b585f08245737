"""``/market/admin/``: the funnel, revenue, entitlement, latency and dead-letter dashboards (admins only).

Everything comes from the telemetry rollups (services/telemetry/) except the dead-letter depth,
read from Kafka at each rendering. Money stays integer minor units and msat; percentages are
integer arithmetic. ``?hours=`` sets the window (default a week), ``?market=`` filters the funnel.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiohttp import web
from aiokafka.errors import KafkaError

from services.gateway.context import GATEWAY
from services.marketplace.dashboards_auth import ADMIN_PATH, signed_in_admin
from services.marketplace.dashboards_charts import bar_chart, column_chart
from services.marketplace.money import fiat_text, sats_text
from services.marketplace.pages import render
from shared.db.telemetry_models import WEBHOOK_ACCEPT_MS, WEBHOOK_TO_ENTITLEMENT_MS
from shared.db.telemetry_reads import (
    FunnelRow,
    active_entitlements_by_hour,
    funnel,
    latency_buckets,
    percentile_ms,
    revenue,
)
from shared.domain.markets import market_code
from shared.domain.provider import Provider
from shared.messaging.dead_letter_depth import dead_letter_depth

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()
DEFAULT_WINDOW_HOURS = 7 * 24
MAX_WINDOW_HOURS = 366 * 24


def _window_hours(request: web.Request) -> int:
    text = request.query.get("hours", "")
    return min(int(text), MAX_WINDOW_HOURS) if text.isdigit() and int(text) > 0 else DEFAULT_WINDOW_HOURS


def _share(part: int, whole: int) -> str:
    return f"{part * 100 // whole}%" if whole else "-"


def funnel_lines(rows: list[FunnelRow]) -> list[dict[str, Any]]:
    """One line per pack and provider: views (the pack's), started, completed, abandoned."""
    lines = []
    for row in rows:
        for provider in [p.value for p in Provider]:
            started, completed = row.started.get(provider, 0), row.completed.get(provider, 0)
            abandoned = max(started - completed, 0)
            lines.append(
                {
                    "pack": row.pack,
                    "provider": provider,
                    "views": row.views,
                    "started": started,
                    "completed": completed,
                    "expired": row.expired.get(provider, 0),
                    "abandoned": abandoned,
                    "abandonment": _share(abandoned, started),
                    "conversion": _share(completed, row.views),
                }
            )
    return lines


async def _dead_letters(request: web.Request) -> dict[str, int] | None:
    ctx = request.app[GATEWAY]
    try:
        return await dead_letter_depth(ctx.settings.kafka_bootstrap, ctx.topics)
    except (KafkaError, TimeoutError, OSError) as exc:  # the page still shows the rest
        log.warning("dashboard_dead_letters_unknown", error=type(exc).__name__)
        return None


@routes.get(f"{ADMIN_PATH}/", name="admin-dashboard")
async def dashboard_page(request: web.Request) -> web.Response:
    if await signed_in_admin(request) is None:
        raise web.HTTPSeeOther(request.app.router["admin-signin"].url_for())
    hours = _window_hours(request)
    market = market_code(request.query.get("market", "")) or None
    since = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    async with request.app[GATEWAY].sessions() as session:
        lines = funnel_lines(await funnel(session, since, market))
        earned = await revenue(session, since)
        active, active_now = await active_entitlements_by_hour(session, since)
        latencies = {
            metric: await latency_buckets(session, since, metric)
            for metric in (WEBHOOK_ACCEPT_MS, WEBHOOK_TO_ENTITLEMENT_MS)
        }
    dead_letters = await _dead_letters(request)
    namespace = request.app[GATEWAY].topics.namespace
    latency_rows = [
        {
            "metric": metric,
            "provider": provider,
            "samples": sum(buckets.values()),
            "p50": percentile_ms(buckets, 50),
            "p99": percentile_ms(buckets, 99),
        }
        for metric, by_provider in latencies.items()
        for provider, buckets in sorted(by_provider.items())
    ]
    revenue_rows = [
        {
            "provider": r.provider,
            "currency": r.currency or "-",
            "completions": r.completions,
            "fiat": fiat_text(r.amount_minor, r.currency) if r.currency and r.currency != "BTC" else "-",
            "sats": sats_text(r.amount_msat) if r.amount_msat else "-",
            "amount_minor": r.amount_minor,
            "amount_msat": r.amount_msat,
        }
        for r in earned
    ]
    charts = {
        "funnel": bar_chart(
            "Checkouts completed per pack and provider",
            [
                (f"{line['pack']} · {line['provider']}", line["completed"])
                for line in lines
                if line["started"]
            ],
        ),
        "active": column_chart(
            "Active entitlements by hour",
            [(hour.strftime("%Y-%m-%d %H:00"), value) for hour, value in active],
        ),
        "dead_letters": bar_chart(
            "Dead letters waiting",
            sorted((name.removeprefix(namespace), depth) for name, depth in (dead_letters or {}).items()),
        ),
    }
    context = {
        "hours": hours,
        "market": market,
        "funnel": lines,
        "revenue": revenue_rows,
        "active_now": active_now,
        "latencies": latency_rows,
        "dead_letters": dead_letters,
        "dead_letters_total": sum(dead_letters.values()) if dead_letters is not None else None,
        "charts": charts,
    }
    return await render(request, "dashboard.html", context)
