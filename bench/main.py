"""``billing bench [--n N]``: every figure of bench/README.md in one run, printed and saved as JSON."""

import argparse
import asyncio
import os
import platform
import sys
import time
from typing import Any

import httpx

from apps.cli.progress import working
from apps.stack.processes import REPO_ROOT
from bench.http_ingress import http_ingress
from bench.pipeline import EventWatcher, run_pipeline
from bench.raw_bounds import kafka_round_trip, postgres_transactions
from bench.reads import read_benchmarks
from bench.report import ratios, render, write_json
from bench.sdk import render_sdk, sdk_benchmarks
from bench.stack import BenchStack, bench_stack
from bench.worker_drain import worker_drain
from bench.workload import Products, build_workload, create_products

RESULTS_DIR = REPO_ROOT / "bench" / "results"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="billing bench", description=__doc__)
    # 4,000 keeps `make bench` under 10 minutes at today's ~25 webhooks/s (bench/README.md); --n 20000
    # is the size and takes about half an hour.
    parser.add_argument("--n", type=int, default=4_000, help="webhooks in the main run")
    parser.add_argument("--concurrency", type=int, default=32, help="webhook POSTs in flight")
    parser.add_argument("--read-concurrency", type=int, default=16)
    parser.add_argument("--partitions", type=int, default=2, help="partitions per topic (≥ worker instances)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the N/4, N/2 and 2-worker runs")
    parser.add_argument("--drain-updates", type=int, default=10_000, help="updates per worker-drain run")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    if argv[:1] == ["sdk"]:
        sdk_only(argv[1:])
        return
    if argv[:1] == ["drain"]:
        drain_only(argv[1:])
        return
    args = parse_args(argv)
    result = asyncio.run(run_all(args))
    path = write_json(result, RESULTS_DIR)  # first: the figures survive a report that fails
    result["ratios"] = ratios(result)
    write_json(result, RESULTS_DIR)
    print(render(result))
    print(f"\nwritten to {path}")


async def run_all(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H-%M-%S"),
        "n": args.n,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    async with bench_stack(args.partitions) as stack, httpx.AsyncClient(timeout=30) as http:
        products = await create_products(stack.sessions)
        result["raw"] = await raw_bounds(stack, args.n, args.concurrency)
        watcher = EventWatcher(stack)
        await watcher.start()
        try:
            runner = Runner(stack, watcher, http, products, args)
            await runner.run("warm-up", 400)
            main_run = await runner.run("main", args.n)
            half_rate = max(1.0, main_run["webhooks_completed_per_s"] / 2)
            half_n = int(min(args.n // 4, half_rate * 30))
            pipeline = {"main": main_run, "half_load": await runner.run("half-load", half_n, rate=half_rate)}
            users = sorted({user for user, _ in runner.last_pairs["main"]})
            result["reads"] = await read_benchmarks(
                stack, users[:4000], "bench.shared", concurrency=args.read_concurrency, warm_repeat=10
            )
            result["sdk"] = await sdk_benchmarks(stack, seed=args.seed)
            if not args.no_scaling:
                pipeline["quarter"] = await runner.run("quarter", args.n // 4)
                pipeline["half"] = await runner.run("half", args.n // 2)
                stack.start_extra_worker()
                await runner.run("warm-up-2-workers", 400)
                pipeline["half_2_workers"] = await runner.run("half-2w", args.n // 2)
                stack.stop_extra_workers()
                drains = [await worker_drain(stack, products, w, args.drain_updates) for w in (1, 2)]
                result["worker_drain"] = drains
            result["pipeline"] = pipeline
        finally:
            await watcher.stop()
    result["scaling"] = scaling(result["pipeline"], result.get("worker_drain", []))
    result["load"] = f"{load_before:.2f}/{os.getloadavg()[0]:.2f}"
    return result


async def raw_bounds(stack: BenchStack, n: int, concurrency: int) -> dict[str, Any]:
    count = max(2000, min(n, 20_000))
    return {
        # a raw RevenueCat webhook (~1.6 kB) and an entitlement update (~0.5 kB)
        "kafka": [await kafka_round_trip(stack, size, count) for size in (1600, 500)],
        "postgres": [await postgres_transactions(stack, count // 2, c) for c in (1, 4)],
        # webhook-sized bodies POSTed as the pipeline's are, at its concurrency
        "http_ingress": await http_ingress(
            stack, [_webhook_sized_body(i) for i in range(count)], concurrency
        ),
    }


def _webhook_sized_body(i: int) -> bytes:
    head = b'{"api_version": "1.0", "event": {"id": "%d", "type": "RENEWAL"}, "padding": "' % i
    return head + b"x" * (1600 - len(head) - 2) + b'"}'


def drain_only(argv: list[str]) -> None:
    """``billing bench drain``: only the worker stage, 1 then 2 workers (bench/worker_drain.py)."""
    parser = argparse.ArgumentParser(prog="billing bench drain", description=drain_only.__doc__)
    parser.add_argument("--updates", type=int, default=10_000, help="updates per drain run")
    args = parser.parse_args(argv)

    async def run() -> dict[str, Any]:
        async with bench_stack(partitions=2) as stack:
            products = await create_products(stack.sessions)
            return {"worker_drain": [await worker_drain(stack, products, w, args.updates) for w in (1, 2)]}

    drains = asyncio.run(run())["worker_drain"]
    print(f"2 workers over 1: {scaling({}, drains).get('worker_drain_2_over_1')}")


def sdk_only(argv: list[str]) -> None:
    """``billing bench sdk``: only the SDK's figures (bench/sdk.py), on a stack of their own."""
    parser = argparse.ArgumentParser(prog="billing bench sdk", description="the SDK figures (bench/sdk.py)")
    parser.add_argument("--users", type=int, default=500, help="users the cache bootstraps")
    parser.add_argument("--events", type=int, default=100, help="purchases timed to the cache, one at a time")
    parser.add_argument("--checks", type=int, default=200_000, help="is_allowed calls timed")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    async def run() -> dict[str, Any]:
        result: dict[str, Any] = {
            "date": time.strftime("%Y-%m-%dT%H-%M-%S") + "-sdk",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        }
        async with bench_stack(partitions=2) as stack:
            result["sdk"] = await sdk_benchmarks(
                stack, users=args.users, events=args.events, checks=args.checks, seed=args.seed
            )
        return result

    result = asyncio.run(run())
    path = write_json(result, RESULTS_DIR)
    print("\n".join(render_sdk(result["sdk"])))
    print(f"\nwritten to {path}")


class Runner:
    def __init__(
        self,
        stack: BenchStack,
        watcher: EventWatcher,
        http: httpx.AsyncClient,
        products: Products,
        args: argparse.Namespace,
    ) -> None:
        self.stack, self.watcher, self.http, self.products, self.args = stack, watcher, http, products, args
        self.last_pairs: dict[str, set[tuple[str, str]]] = {}

    async def run(self, name: str, n: int, rate: float | None = None) -> dict[str, Any]:
        began = time.perf_counter()
        workload = await build_workload(
            self.http, self.stack.sandbox_urls["revenuecat"], self.products, name, n, self.args.seed
        )
        print(
            f"[bench] {name}: {len(workload.bodies)} webhooks, {workload.users} users "
            f"(seeded in {time.perf_counter() - began:.1f}s)",
            flush=True,
        )
        self.last_pairs[name] = workload.pairs
        with working(f"[bench] {name}: {len(workload.bodies)} webhooks through the stack"):
            outcome = await run_pipeline(
                self.stack, self.watcher, workload, concurrency=self.args.concurrency, rate_per_s=rate
            )
        print(
            f"[bench] {name}: {outcome['webhooks_completed_per_s']} webhooks/s, "
            f"p99 {outcome['latency']['p99_ms']} ms, correct={outcome['correctness']['ok']}",
            flush=True,
        )
        return outcome


def scaling(pipeline: dict[str, Any], drains: list[dict[str, Any]]) -> dict[str, Any]:
    """The pipeline at N/4, N/2, N (and N/2 with two workers), and the worker stage alone, 2 over 1."""
    result: dict[str, Any] = {"pipeline_runs": scaling_rows(pipeline)}
    by_workers = {drain["workers"]: drain for drain in drains}
    if 1 in by_workers and 2 in by_workers and by_workers[1]["updates_per_s"]:
        result["worker_drain_2_over_1"] = round(
            by_workers[2]["updates_per_s"] / by_workers[1]["updates_per_s"], 2
        )
    return result


def scaling_rows(pipeline: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name in ("quarter", "half", "main", "half_2_workers"):
        run = pipeline.get(name)
        if run is None:
            continue
        rows.append(
            {
                "name": f"{name} (N={run['webhooks']})",
                "webhooks_per_s": run["webhooks_completed_per_s"],
                "seconds": run["seconds"],
                "us_per_webhook": round(1e6 * run["seconds"] / run["webhooks"]),
            }
        )
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
