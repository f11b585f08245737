"""The printed table and the JSON result file."""

import json
from pathlib import Path
from typing import Any

from bench.sdk import render_sdk

TARGET_E2E_SHARE = 0.5
TARGET_P99_MS_AT_HALF_LOAD = 250.0
TARGET_READ_P99_MS_WARM = 5.0


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    """Pipeline against its raw bound, and p99s against the targets."""
    raw = result["raw"]
    kafka_bound = min(k["msgs_per_s"] for k in raw["kafka"])
    postgres_bound = max(p["tx_per_s"] for p in raw["postgres"])
    bound = min(kafka_bound, postgres_bound)
    main = result["pipeline"]["main"]
    half = result["pipeline"]["half_load"]
    reads = result["reads"]
    share = main["webhooks_completed_per_s"] / bound if bound else 0.0
    warm_p99 = max(reads["entitlements_warm"]["p99_ms"], reads["feature_warm"]["p99_ms"])
    serial_p99 = reads["feature_warm_serial"]["p99_ms"]
    return {
        "raw_bound_per_s": bound,
        "raw_bound_stage": "kafka" if kafka_bound <= postgres_bound else "postgres",
        "e2e_share_of_raw_bound": round(share, 3),
        "e2e_target_met": share >= TARGET_E2E_SHARE,
        "p99_ms_at_half_load": half["latency"]["p99_ms"],
        "p99_target_met": half["latency"]["p99_ms"] <= TARGET_P99_MS_AT_HALF_LOAD,
        "read_p99_ms_warm": warm_p99,
        "read_target_met": warm_p99 <= TARGET_READ_P99_MS_WARM,
        "read_p99_ms_warm_serial": serial_p99,
        "read_serial_target_met": serial_p99 <= TARGET_READ_P99_MS_WARM,
    }


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
    if result.get("scaling"):
        lines += ["", _row(["Scaling", "webhooks/s", "s", "µs/webhook", ""], w)]
        for row in result["scaling"]:
            lines.append(
                _row(
                    [f"  {row['name']}", row["webhooks_per_s"], row["seconds"], row["us_per_webhook"], ""], w
                )
            )
    r = result["ratios"]
    lines += [
        "",
        "Ratios and targets",
        f"  raw bound ({r['raw_bound_stage']}): {r['raw_bound_per_s']}/s;"
        f" pipeline/raw = {r['e2e_share_of_raw_bound']}"
        f"  (target ≥ {TARGET_E2E_SHARE}: {'met' if r['e2e_target_met'] else 'MISSED'})",
        f"  webhook→event p99 at 50 % load = {r['p99_ms_at_half_load']} ms"
        f"  (target ≤ {TARGET_P99_MS_AT_HALF_LOAD:.0f}: {'met' if r['p99_target_met'] else 'MISSED'})",
        f"  warm read p99 = {r['read_p99_ms_warm']} ms"
        f"  (target ≤ {TARGET_READ_P99_MS_WARM:.0f}: {'met' if r['read_target_met'] else 'MISSED'});"
        f" one in flight = {r['read_p99_ms_warm_serial']} ms"
        f" ({'met' if r['read_serial_target_met'] else 'MISSED'})",
    ]
    if "sdk" in result:
        lines += ["", *render_sdk(result["sdk"])]
    return "\n".join(lines)


def write_json(result: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result['date']}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=True, default=str))
    return path
