"""Time as the services see it: a `Clock` is a function returning the current time in UTC.

Services that measure leases, due times, retry delays and expiries take a clock (`utcnow`,
real time, unless told otherwise), so that tests can build them through `build_services` on a
clock they move by hand instead of waiting for time to pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The current time, in UTC (every timestamp the services record is)."""
    return dt.datetime.now(dt.UTC)
