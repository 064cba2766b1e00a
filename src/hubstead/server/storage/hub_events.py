"""The `HubEventLog` Protocol: the outbox of hub events, read in the order they were recorded.

Stores write events in the transaction of the change they describe (for SQL,
`hub_events_sql.record_event`); this Protocol is the reading side that subscribers use.
"""

from __future__ import annotations

from typing import Protocol

from hubstead.server.domain.hub_events import HubEventRecord


class HubEventLog(Protocol):
    """The hub events recorded so far."""

    def list_events(self, after_id: int, limit: int) -> list[HubEventRecord]:
        """Up to `limit` events with ids above `after_id`, oldest first.

        An event is listed only once every event with a smaller id is committed, so a reader
        that resumes after the last id it saw misses nothing.
        """

    def cursor(self, reader: str) -> int:
        """The last event id the reader named `reader` is done with (0 before its first)."""

    def advance(self, reader: str, last_id: int) -> None:
        """Record that `reader` is done with the events up to `last_id`.

        A cursor never moves back: of two readers racing, the one further on wins.
        """
