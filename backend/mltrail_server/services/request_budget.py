"""What one request may cost, charged before the work is done.

``metricHistories`` once turned a 272-byte query into a 336 MB answer: the point limit was per
series, and a request could list one key twenty times, or ask thirty aliases for the same
series. A ``PointBudget`` belongs to one request (the GraphQL context holds it) and every
field that produces metric points charges it with the most it will return — known from the
per-series counts before a single chunk is read — so all fields and aliases together stay
under ``max_request_points``. JSON spends at most about 70 bytes on a point (step, timestamp
and value), which bounds the answer's size as well.
"""

from __future__ import annotations

from mltrail_server.errors import ResourceExhausted


class PointBudget:
    """Metric points one request may still produce, and stored points it may still read;
    shared by all its fields.

    Both are needed: thirty aliases asking for the same 1M-point series with ``maxPoints: 100``
    produce 3,000 points but read thirty million.
    """

    __slots__ = ("limit", "read", "read_limit", "spent")

    def __init__(self, limit: int, read_limit: int | None = None) -> None:
        self.limit = limit
        self.spent = 0
        self.read_limit = read_limit
        self.read = 0

    def charge_read(self, points: int, *, field: str) -> None:
        """Reserve ``points`` stored points to read, or refuse with RESOURCE_EXHAUSTED."""
        if self.read_limit is not None and self.read + points > self.read_limit:
            raise ResourceExhausted(
                f"{field}: this request would read {self.read + points:,} stored metric points across "
                f"its fields and aliases; the limit is {self.read_limit:,} (MLTRAIL_MAX_REQUEST_READ_POINTS). "
                "Ask for a step range (minStep/maxStep), or for fewer series per request"
            )
        self.read += points

    def charge(self, points: int, *, field: str) -> None:
        """Reserve ``points`` or refuse with RESOURCE_EXHAUSTED, naming the setting."""
        if self.spent + points > self.limit:
            raise ResourceExhausted(
                f"{field}: this request would return {self.spent + points:,} metric points across its "
                f"fields and aliases; the limit is {self.limit:,} (MLTRAIL_MAX_REQUEST_POINTS). Pass "
                "maxPoints, or ask for fewer series per request"
            )
        self.spent += points


def series_cost(total_points: int, max_points: int | None) -> int:
    """The most points one series can return: all of them, or ``maxPoints`` when downsampled."""
    return total_points if max_points is None else min(total_points, max_points)
