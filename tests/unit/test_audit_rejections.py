"""Rejected webhooks per source: a burst of audit rows, then only a count, reported once per window."""

from shared.security.audit_rejections import OTHER_SOURCES, RejectionLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_flood_from_one_source_gets_the_burst_then_one_summary_row() -> None:
    clock = Clock()
    limiter = RejectionLimiter(burst=3, window_s=60, clock=clock)

    admitted = [limiter.admit("revenuecat", "10.0.0.1") for _ in range(1000)]
    assert admitted.count(True) == 3
    assert limiter.expired() == []  # the window is not over yet

    clock.now = 60
    [summary] = limiter.expired()
    assert summary.event == "webhook.rejected.suppressed"
    assert summary.details == {"remote": "10.0.0.1", "suppressed": 997, "window_s": 60}


def test_each_source_has_its_own_burst() -> None:
    limiter = RejectionLimiter(burst=1, clock=Clock())
    assert [limiter.admit("lightning", ip) for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.1")] == [
        True,
        True,
        False,
    ]


def test_a_new_window_admits_again_and_keeps_the_old_count() -> None:
    clock = Clock()
    limiter = RejectionLimiter(burst=1, window_s=60, clock=clock)
    limiter.admit("revenuecat", "10.0.0.1")
    limiter.admit("revenuecat", "10.0.0.1")
    clock.now = 61
    assert limiter.admit("revenuecat", "10.0.0.1") is True
    assert [s.details["suppressed"] for s in limiter.expired() if s.details] == [1]


def test_sources_beyond_the_bound_share_one_key() -> None:
    clock = Clock()
    limiter = RejectionLimiter(burst=1, window_s=60, max_sources=2, clock=clock)
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"):
        limiter.admit("revenuecat", ip)
    assert limiter.admit("revenuecat", "10.0.0.5") is False  # counted under "other"
    clock.now = 60
    remotes = {s.details["remote"] for s in limiter.expired() if s.details}
    assert remotes == {OTHER_SOURCES}
