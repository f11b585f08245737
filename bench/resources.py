"""CPU and peak RSS of each service process while a phase runs (psutil, sampled)."""

import asyncio
import contextlib
import time
from typing import Any

import psutil

from bench.stack import service_processes

SAMPLE_INTERVAL_S = 0.25


class ResourceSampler:
    """Start before a phase, stop after it: CPU % of one core and peak RSS per service."""

    def __init__(self) -> None:
        self._cpu_start: dict[int, float] = {}
        self._cpu_last: dict[int, float] = {}
        self._peak_rss: dict[int, int] = {}
        self._names: dict[int, str] = {}
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0

    def start(self) -> None:
        self._started = time.perf_counter()
        self._task = asyncio.create_task(self._sample_forever())

    async def stop(self) -> dict[str, dict[str, Any]]:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sample()
        wall = time.perf_counter() - self._started
        report: dict[str, dict[str, Any]] = {}
        for pid, name in self._names.items():
            entry = report.setdefault(name, {"instances": 0, "cpu_pct": 0.0, "peak_rss_mb": 0.0})
            used = self._cpu_last.get(pid, 0.0) - self._cpu_start.get(pid, 0.0)
            entry["instances"] += 1
            entry["cpu_pct"] = round(entry["cpu_pct"] + 100 * used / wall, 1)
            entry["peak_rss_mb"] = max(entry["peak_rss_mb"], round(self._peak_rss.get(pid, 0) / 2**20, 1))
        return report

    async def _sample_forever(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(SAMPLE_INTERVAL_S)

    def _sample(self) -> None:
        for name, processes in service_processes().items():
            for process in processes:
                try:
                    with process.oneshot():
                        times = process.cpu_times()
                        rss = process.memory_info().rss
                except psutil.Error:
                    continue
                cpu = times.user + times.system
                self._names[process.pid] = name
                self._cpu_start.setdefault(process.pid, cpu)
                self._cpu_last[process.pid] = cpu
                self._peak_rss[process.pid] = max(self._peak_rss.get(process.pid, 0), rss)
