"""Rates such as `120/min`: the one reading of them, for the settings check and the rate limiter.

Plain Python (no Django), so settings can use it while they are read."""

from __future__ import annotations

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
PERIODS |= {"d": 86400, "day": 86400}


def parse_rate(text: str) -> tuple[int, int]:
    """(requests, seconds) of `N/period`; ValueError when it is not one."""
    count, _, period = text.strip().partition("/")
    if not (count.isascii() and count.isdigit() and int(count) > 0 and period in PERIODS):
        raise ValueError(
            f"{text!r} is not a rate; write N/second, N/min, N/hour or N/day (N ≥ 1), e.g. 120/min."
        )
    return int(count), PERIODS[period]
