"""The printed table and the JSON result file."""

import json
from pathlib import Path
from typing import Any

from bench.sdk import render_sdk

# Issue 12's targets (reported, never asserted in tests).
TARGET_WEBHOOKS_PER_S = 1000.0
TARGET_E2E_SHARE = 0.25  # of the slowest raw stage, on the way to 0.5
TARGET_P99_MS_AT_HALF_LOAD = 100.0
TARGET_READ_P99_MS_WARM = 5.0
TARGET_WORKER_UPDATES_PER_S = 5000.0
TARGET_WORKER_DRAIN_2_OVER_1 = 1.4
TARGET_PEAK_RSS_MB = 200.0


def raw_stages(raw: dict[str, Any]) -> dict[str, float]:
    """Each raw stage's rate: the slower Kafka message size, the faster Postgres pool, bare HTTP ingress."""
    stages = {
        "kafka": min(k["msgs_per_s"] for k in raw["kafka"]),
        "postgres": max(p["tx_per_s"] for p in raw["postgres"]),
    }
    if "http_ingress" in raw:
        stages["http_ingress"] = raw["http_ingress"]["req_per_s"]
    return stages


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    """Pipeline against its slowest raw stage, and every figure against its target."""
    stages = raw_stages(result["raw"])
    slowest = min(stages, key=lambda name: stages[name])
    bound = stages[slowest]
    main = result["pipeline"]["main"]
    half = result["pipeline"]["half_load"]
    reads = result["reads"]
    share = main["webhooks_completed_per_s"] / bound if bound else 0.0
    warm_p99 = max(reads["entitlements_warm"]["p99_ms"], reads["feature_warm"]["p99_ms"])
    serial_p99 = reads["feature_warm_serial"]["p99_ms"]
    peak_rss = max((usage["peak_rss_mb"] for usage in main["resources"].values()), default=0.0)
    figures: dict[str, Any] = {
        "raw_bound_per_s": bound,
        "raw_bound_stage": slowest,
        "pipeline_over_raw": round(share, 3),
        "half_load_p99_ms": half["latency"]["p99_ms"],
        "read_p99_ms_warm": warm_p99,
        "read_p99_ms_warm_serial": serial_p99,
        "peak_rss_mb": peak_rss,
    }
    met = {
        "webhooks_per_s": main["webhooks_completed_per_s"] >= TARGET_WEBHOOKS_PER_S
        and main["correctness"]["ok"],
        "pipeline_over_raw": share >= TARGET_E2E_SHARE,
        "half_load_p99_ms": half["latency"]["p99_ms"] <= TARGET_P99_MS_AT_HALF_LOAD,
        "read_p99_ms_warm": warm_p99 <= TARGET_READ_P99_MS_WARM,
        "peak_rss_mb": peak_rss <= TARGET_PEAK_RSS_MB,
    }
    drains = {drain["workers"]: drain for drain in result.get("worker_drain", [])}
    if 1 in drains:
        figures["worker_updates_per_s"] = drains[1]["updates_per_s"]
        met["worker_updates_per_s"] = drains[1]["updates_per_s"] >= TARGET_WORKER_UPDATES_PER_S
    drain_ratio = result.get("scaling", {}).get("worker_drain_2_over_1")
    if drain_ratio is not None:
        figures["worker_drain_2_over_1"] = drain_ratio
        met["worker_drain_2_over_1"] = drain_ratio >= TARGET_WORKER_DRAIN_2_OVER_1
    return figures | {"targets_met": met}


def _row(cells: list[Any], widths: list[int]) -> str:
    return "  ".join(
        str(c).ljust(w) if i == 0 else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def render(result: dict[str, Any]) -> str:
    lines = [
        f"billing bench — {result['date']}  (N={result['n']}, load avg before/after {result['load']})",
        "",
    ]
    w = [44, 12, 10, 10, 10]
    lines.append(_row(["Raw bounds", "per s", "p50 ms", "p99 ms", ""], w))
    for k in result["raw"]["kafka"]:
        lines.append(
            _row(
                [
                    f"  kafka produce→consume {k['size_bytes']} B",
                    k["msgs_per_s"],
                    k["p50_ms"],
                    k["p99_ms"],
                    "",
                ],
                w,
            )
        )
    for p in result["raw"]["postgres"]:
        lines.append(
            _row(
                [
                    f"  postgres worker tx, {p['connections']} conn",
                    p["tx_per_s"],
                    p["p50_ms"],
                    p["p99_ms"],
                    "",
                ],
                w,
            )
        )
    if "http_ingress" in result["raw"]:
        h = result["raw"]["http_ingress"]
        lines.append(
            _row(
                [
                    f"  bare HTTP ingress → Kafka, {h['concurrency']} in flight",
                    h["req_per_s"],
                    h["p50_ms"],
                    h["p99_ms"],
                    "",
                ],
                w,
            )
        )
    lines += [
        "",
        _row(["Pipeline (webhook → entitlement event)", "webhooks/s", "p50 ms", "p95 ms", "p99 ms"], w),
    ]
    for name, run in result["pipeline"].items():
        lat = run["latency"]
        ok = "ok" if run["correctness"]["ok"] else "FAILED"
        lines.append(
            _row(
                [
                    f"  {name}: {run['webhooks']} webhooks, {ok}",
                    run["webhooks_completed_per_s"],
                    lat["p50_ms"],
                    lat["p95_ms"],
                    lat["p99_ms"],
                ],
                w,
            )
        )
        lines.append(
            _row(
                [
                    "    accepted at gateway /s | entitlements/s",
                    run["accepted_per_s"],
                    run["entitlements_completed_per_s"],
                    f"{run['seconds']}s",
                    "",
                ],
                w,
            )
        )
    main = result["pipeline"]["main"]
    lines += ["", _row(["Resources during main run", "CPU %", "peak MB", "", ""], w)]
    for service, usage in sorted(main["resources"].items()):
        lines.append(
            _row([f"  {service} x{usage['instances']}", usage["cpu_pct"], usage["peak_rss_mb"], "", ""], w)
        )
    lines += ["", _row(["Reads", "req/s", "p50 ms", "p99 ms", "errors"], w)]
    for name, run in result["reads"].items():
        if isinstance(run, dict):
            lines.append(
                _row([f"  {name}", run["req_per_s"], run["p50_ms"], run["p99_ms"], run["errors"]], w)
            )
    runs = result.get("scaling", {}).get("pipeline_runs", [])
    if runs:
        lines += ["", _row(["Scaling", "webhooks/s", "s", "µs/webhook", ""], w)]
        for row in runs:
            lines.append(
                _row(
                    [f"  {row['name']}", row["webhooks_per_s"], row["seconds"], row["us_per_webhook"], ""], w
                )
            )
    if result.get("worker_drain"):
        lines += [
            "",
            _row(["Worker stage alone (a backlog to drain)", "updates/s", "s", "CPU µs/upd", ""], w),
        ]
        for drain in result["worker_drain"]:
            lines.append(
                _row(
                    [
                        f"  {drain['workers']} worker(s), {drain['applied']}/{drain['updates']} applied",
                        drain["updates_per_s"],
                        drain["seconds"],
                        drain["cpu_us_per_update"],
                        "",
                    ],
                    w,
                )
            )
    r = result["ratios"]
    met = r["targets_met"]

    def verdict(key: str) -> str:
        return "met" if met[key] else "MISSED"

    main = result["pipeline"]["main"]
    lines += [
        "",
        "Targets (issue 12)",
        f"  end to end {main['webhooks_completed_per_s']} webhooks/s"
        f"  (target ≥ {TARGET_WEBHOOKS_PER_S:.0f} with correctness ok: {verdict('webhooks_per_s')})",
        f"  slowest raw stage ({r['raw_bound_stage']}): {r['raw_bound_per_s']}/s;"
        f" pipeline/raw = {r['pipeline_over_raw']}"
        f"  (target ≥ {TARGET_E2E_SHARE}: {verdict('pipeline_over_raw')})",
        f"  webhook→event p99 at 50 % load = {r['half_load_p99_ms']} ms"
        f"  (target ≤ {TARGET_P99_MS_AT_HALF_LOAD:.0f}: {verdict('half_load_p99_ms')})",
        f"  warm read p99 = {r['read_p99_ms_warm']} ms"
        f"  (target ≤ {TARGET_READ_P99_MS_WARM:.0f}: {verdict('read_p99_ms_warm')});"
        f" one in flight = {r['read_p99_ms_warm_serial']} ms",
        f"  peak RSS of a service = {r['peak_rss_mb']} MB"
        f"  (target ≤ {TARGET_PEAK_RSS_MB:.0f}: {verdict('peak_rss_mb')})",
    ]
    if "worker_updates_per_s" in r:
        lines.append(
            f"  worker stage alone = {r['worker_updates_per_s']} updates/s"
            f"  (target ≥ {TARGET_WORKER_UPDATES_PER_S:.0f}: {verdict('worker_updates_per_s')})"
        )
    if "worker_drain_2_over_1" in r:
        lines.append(
            f"  2 workers drain {r['worker_drain_2_over_1']} times one"
            f"  (target ≥ {TARGET_WORKER_DRAIN_2_OVER_1}: {verdict('worker_drain_2_over_1')})"
        )
    if "sdk" in result:
        lines += ["", *render_sdk(result["sdk"])]
    return "\n".join(lines)


def write_json(result: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result['date']}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=True, default=str))
    return path
