"""`SpaceRuntimeStore` and `SpaceLogStore` on SQL: the `space_runtimes` and `space_logs` tables."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.spaces import (
    AppAddress,
    LogKind,
    LogLine,
    SpaceSdk,
    SpaceStage,
    SpaceState,
    SpaceVolume,
)
from hubstead.server.storage.db import Database, as_utc, insert_missing
from hubstead.server.storage.schema import space_logs, space_runtimes
from hubstead.server.storage.spaces import SpaceSettings, StageChange

_ROW = space_runtimes.c


class SqlSpaceRuntimeStore:
    """Runtime rows, one per Space."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, repo_id: int) -> SpaceState | None:
        """Select the row by its key."""
        with self._db.query() as conn:
            row = conn.execute(sa.select(space_runtimes).where(_ROW.repo_id == repo_id)).first()
        return None if row is None else _state(row._mapping)

    def ensure(self, repo_id: int, initial: SpaceState) -> SpaceState | None:
        """Insert unless present (ON CONFLICT DO NOTHING), then read it back."""
        try:
            with self._db.write() as conn:
                insert_missing(conn, space_runtimes, [_values(initial)])
                row = conn.execute(sa.select(space_runtimes).where(_ROW.repo_id == repo_id)).one()
        except sa.exc.IntegrityError:  # the repo row is gone: its key references nothing
            return None
        return _state(row._mapping)

    def begin(
        self, repo_id: int, stage: SpaceStage, at: dt.datetime, *, fresh: bool = False
    ) -> SpaceState | None:
        """Raise the generation and set the stage in one UPDATE ... RETURNING."""
        values: dict[str, Any] = {
            "stage": stage.value,
            "generation": _ROW.generation + 1,
            "error": None,
            "updated_at": at,
        }
        if fresh:
            values["fresh_build"] = True
        update = (
            sa.update(space_runtimes)
            .where(_ROW.repo_id == repo_id)
            .values(**values)
            .returning(*space_runtimes.c)
        )
        with self._db.write() as conn:
            row = conn.execute(update).first()
        return None if row is None else _state(row._mapping)

    def advance(self, repo_id: int, generation: int, change: StageChange, at: dt.datetime) -> bool:
        """UPDATE where the generation still matches."""
        address = change.address
        values = {
            "stage": change.stage.value,
            "sdk": None if change.sdk is None else change.sdk.value,
            "commit_id": change.commit,
            "address_host": None if address is None else address.host,
            "address_port": None if address is None else address.port,
            "address_root": None if address is None else address.root_path,
            "owner": change.owner,
            "error": change.error,
            "updated_at": at,
        }
        if change.built:
            values["fresh_build"] = False
        with self._db.write() as conn:
            changed = conn.execute(
                sa.update(space_runtimes)
                .where((_ROW.repo_id == repo_id) & (_ROW.generation == generation))
                .values(**values)
            ).rowcount
        return bool(changed)

    def configure(
        self, repo_id: int, settings: SpaceSettings, at: dt.datetime
    ) -> SpaceState | None:
        """Update the settings columns, returning the row."""
        update = (
            sa.update(space_runtimes)
            .where(_ROW.repo_id == repo_id)
            .values(
                hardware=settings.hardware,
                sleep_seconds=settings.sleep_seconds,
                volumes=_volumes_json(settings.volumes),
                updated_at=at,
            )
            .returning(*space_runtimes.c)
        )
        with self._db.write() as conn:
            row = conn.execute(update).first()
        return None if row is None else _state(row._mapping)

    def touch(self, repo_id: int, at: dt.datetime) -> None:
        """Set `last_request_at`."""
        with self._db.write() as conn:
            conn.execute(
                sa.update(space_runtimes).where(_ROW.repo_id == repo_id).values(last_request_at=at)
            )

    def in_stages(self, stages: Collection[SpaceStage]) -> list[int]:
        """Select by stage."""
        query = sa.select(_ROW.repo_id).where(_ROW.stage.in_([stage.value for stage in stages]))
        with self._db.query() as conn:
            return list(conn.scalars(query))

    def with_volumes(self) -> list[SpaceState]:
        """Select the rows whose volumes are not the empty list."""
        query = sa.select(space_runtimes).where(_ROW.volumes != _volumes_json(()))
        with self._db.query() as conn:
            rows = conn.execute(query).all()
        return [_state(row._mapping) for row in rows]

    def owned_on(self, host: str) -> list[SpaceState]:
        """Select by the indexed owner column's prefix."""
        prefix = host.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ":%"
        query = sa.select(space_runtimes).where(_ROW.owner.like(prefix, escape="\\"))
        with self._db.query() as conn:
            rows = conn.execute(query).all()
        return [_state(row._mapping) for row in rows]


class SqlSpaceLogStore:
    """Log lines, keyed by Space, log and number."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def append(
        self,
        repo_id: int,
        kind: LogKind,
        lines: Sequence[LogLine],
        keep: int,
        *,
        start: int | None = None,
    ) -> None:
        """Insert the batch and delete what falls out of the window, in one transaction.

        The lines of a Space deleted meanwhile (its build or app still writing) are dropped.
        """
        if not lines:
            return
        rows = [
            {
                "repo_id": repo_id,
                "kind": kind.value,
                "seq": line.seq,
                "at": line.at,
                "text": line.text,
            }
            for line in lines[-keep:]
        ]
        last = max(line.seq for line in lines)
        oldest = last - keep + 1 if start is None else max(start, last - keep + 1)
        try:
            with self._db.write() as conn:
                conn.execute(
                    sa.delete(space_logs).where(_log(repo_id, kind) & (space_logs.c.seq < oldest))
                )
                insert_missing(conn, space_logs, rows)
        except sa.exc.IntegrityError:  # the repo row is gone: its key references nothing
            return

    def lines(self, repo_id: int, kind: LogKind, after: int, limit: int) -> list[LogLine]:
        """Select a window by number."""
        query = (
            sa.select(space_logs.c.seq, space_logs.c.at, space_logs.c.text)
            .where(_log(repo_id, kind) & (space_logs.c.seq > after))
            .order_by(space_logs.c.seq)
            .limit(limit)
        )
        with self._db.query() as conn:
            rows = conn.execute(query).all()
        return [LogLine(row.seq, as_utc(row.at), row.text) for row in rows]

    def next_seq(self, repo_id: int, kind: LogKind) -> int:
        """One past the largest number kept."""
        with self._db.query() as conn:
            last = conn.execute(
                sa.select(sa.func.max(space_logs.c.seq)).where(_log(repo_id, kind))
            ).scalar()
        return 0 if last is None else int(last) + 1


def _log(repo_id: int, kind: LogKind) -> sa.ColumnElement[bool]:
    return (space_logs.c.repo_id == repo_id) & (space_logs.c.kind == kind.value)


def _values(state: SpaceState) -> dict[str, Any]:
    address = state.address
    return {
        "repo_id": state.repo_id,
        "stage": state.stage.value,
        "generation": state.generation,
        "sdk": None if state.sdk is None else state.sdk.value,
        "hardware": state.requested_hardware,
        "sleep_seconds": state.sleep_seconds,
        "commit_id": state.commit,
        "address_host": None if address is None else address.host,
        "address_port": None if address is None else address.port,
        "address_root": None if address is None else address.root_path,
        "owner": state.owner,
        "error": state.error,
        "volumes": _volumes_json(state.volumes),
        "updated_at": state.updated_at,
        "last_request_at": state.last_request_at,
        "fresh_build": state.fresh_build,
    }


def _volumes_json(volumes: Sequence[SpaceVolume]) -> str:
    return json.dumps([dataclasses.asdict(v) for v in volumes])


def _state(row: Any) -> SpaceState:
    address = None
    if row["address_host"] is not None and row["address_port"] is not None:
        address = AppAddress(row["address_host"], row["address_port"], row["address_root"] or "")
    last_request = row["last_request_at"]
    return SpaceState(
        repo_id=row["repo_id"],
        stage=SpaceStage(row["stage"]),
        sdk=None if row["sdk"] is None else SpaceSdk(row["sdk"]),
        requested_hardware=row["hardware"],
        sleep_seconds=row["sleep_seconds"],
        commit=row["commit_id"],
        address=address,
        owner=row["owner"],
        error=row["error"],
        volumes=tuple(SpaceVolume(**v) for v in json.loads(row["volumes"])),
        updated_at=as_utc(row["updated_at"]),
        last_request_at=None if last_request is None else as_utc(last_request),
        generation=row["generation"],
        fresh_build=row["fresh_build"],
    )
