"""Faults on demand: 429s with ``backoff_ms``, 5xx answers, dropped connections or answers that come
too late (``timeout``: held ``delay_ms``, then a 504), per API and customer."""

from dataclasses import dataclass


@dataclass
class Fault:
    scope: str  # "v1" | "v2" | "all"
    mode: str  # "rate_limit" | "error" | "drop" | "timeout"
    app_user_id: str | None = None  # v1 only: just this customer
    remaining: int | None = None  # None = until cleared
    status: int = 503
    backoff_ms: int = 1000
    delay_ms: int = 30_000  # "timeout": longer than any client waits

    def applies(self, api: str, app_user_id: str | None) -> bool:
        if self.scope not in ("all", api):
            return False
        return self.app_user_id is None or self.app_user_id == app_user_id


class Faults:
    def __init__(self) -> None:
        self.active: list[Fault] = []
        self.api_calls: list[tuple[str, str, str | None]] = []  # (api, path, app_user_id)

    def take(self, api: str, path: str, app_user_id: str | None) -> Fault | None:
        """Record the call; the fault to answer it with, if any (counting down limited faults)."""
        self.api_calls.append((api, path, app_user_id))
        for fault in self.active:
            if fault.applies(api, app_user_id):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.active.remove(fault)
                return fault
        return None

    def calls(self, api: str | None = None, app_user_id: str | None = None) -> int:
        return sum(
            1
            for call_api, _, call_user in self.api_calls
            if (api is None or call_api == api) and (app_user_id is None or call_user == app_user_id)
        )
