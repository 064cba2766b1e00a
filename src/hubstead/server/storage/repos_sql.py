"""`RepoStore` on SQL through SQLAlchemy Core (SQLite and PostgreSQL).

Every change of a repo's identity, settings or refs writes its hub event (`domain.hub_events`)
last in its own transaction (`hub_events_sql.record_event`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.git import RefUpdate
from hubstead.server.domain.hub_events import HubEventKind
from hubstead.server.domain.repos import RepoLookup, RepoQuery, RepoRecord, TagUsage
from hubstead.server.domain.spaces import spelled_label
from hubstead.server.storage.db import Database, as_utc, utc_now
from hubstead.server.storage.errors import AlreadyExistsError
from hubstead.server.storage.hub_events_sql import EventNames, event_names, record_event
from hubstead.server.storage.schema import accounts, repo_redirects, repo_tags, repos

_SORT_COLUMNS = {
    "created_at": repos.c.created_at,
    "last_modified": repos.c.last_modified,
    "downloads": repos.c.downloads,
    "likes": repos.c.likes,
    "id": repos.c.lookup,
}
# The settings `update_settings` changes, with the names the Hub gives them in its events.
_SETTINGS = {"private": "private", "gated": "gated", "discussions_disabled": "discussionsDisabled"}

# `find_repo`'s statement, run for every request naming a repo: one statement (one round trip,
# no transaction around it), built once so SQLAlchemy finds it compiled in its cache. Its first
# part always gives one row, so a missing repo is read as a private one is.
_FOUND = sa.select(
    sa.select(repos.c.id)
    .where((repos.c.type == sa.bindparam("type")) & (repos.c.lookup == sa.bindparam("lookup")))
    .scalar_subquery()
    .label("found"),
    sa.select(repo_redirects.c.repo_id)
    .where(
        (repo_redirects.c.type == sa.bindparam("type"))
        & (repo_redirects.c.lookup == sa.bindparam("lookup"))
    )
    .scalar_subquery()
    .label("moved"),
    sa.exists(sa.select(accounts.c.id).where(accounts.c.name_lower == sa.bindparam("owner"))).label(
        "owned"
    ),
).subquery("found")
# A repo's tags in one column, a line each: tags are printable (`cards.py`), never a newline.
_TAG_LINES = (
    sa.select(sa.func.aggregate_strings(repo_tags.c.tag, "\n"))
    .where(repo_tags.c.repo_id == repos.c.id)
    .scalar_subquery()
    .label("tag_lines")
)
_FIND_REPO = sa.select(
    _FOUND.c.found, _FOUND.c.moved, _FOUND.c.owned, repos, _TAG_LINES
).select_from(
    _FOUND.outerjoin(repos, (repos.c.id == _FOUND.c.found) | (repos.c.id == _FOUND.c.moved))
)


def _lookup(namespace: str, name: str) -> str:
    return f"{namespace}/{name}".lower()


def _space_host(type: str, namespace: str, name: str) -> str | None:
    return spelled_label(f"{namespace}/{name}") if type == "space" else None


class SqlRepoStore:
    """Repo rows, their tags and the redirects of moved repos in the SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create_repo(
        self,
        type: str,
        namespace: str,
        name: str,
        storage_key: str,
        private: bool,
        sdk: str | None = None,
        *,
        head: str | None = None,
        actor_id: int | None = None,
    ) -> RepoRecord:
        """Insert a repo row; a redirect from the same id is dropped."""
        now = utc_now()
        values: dict[str, Any] = {
            "type": type,
            "namespace": namespace,
            "name": name,
            "lookup": _lookup(namespace, name),
            "space_host": _space_host(type, namespace, name),
            "storage_key": storage_key,
            "private": private,
            "gated": None,
            "discussions_disabled": False,
            "created_at": now,
            "last_modified": now,
            "head": head,
            "card_data": None,
            "library_name": None,
            "pipeline_tag": None,
            "sdk": sdk,
            "downloads": 0,
            "likes": 0,
        }
        try:
            with self._db.write() as conn:
                inserted = conn.execute(sa.insert(repos).values(values)).inserted_primary_key
                assert inserted is not None
                new_id = inserted[0]
                conn.execute(
                    sa.delete(repo_redirects).where(
                        (repo_redirects.c.type == type)
                        & (repo_redirects.c.lookup == values["lookup"])
                    )
                )
                payload: dict[str, object] = {"private": private}
                record_event(conn, HubEventKind.REPO_CREATE, new_id, None, actor_id, payload, now)
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError(f"{namespace}/{name}") from exc
        return repo_record({"id": new_id, **values}, ())

    def get_repo(self, type: str, namespace: str, name: str) -> RepoRecord | None:
        """Repo by type and id, ignoring case."""
        condition = (repos.c.type == type) & (repos.c.lookup == _lookup(namespace, name))
        return self._one_repo(condition)

    def get_repo_by_key(self, key: int) -> RepoRecord | None:
        """Repo by row id."""
        return self._one_repo(repos.c.id == key)

    def get_redirect(self, type: str, namespace: str, name: str) -> RepoRecord | None:
        """The repo an old id points to."""
        target = (
            sa.select(repo_redirects.c.repo_id)
            .where(repo_redirects.c.type == type)
            .where(repo_redirects.c.lookup == _lookup(namespace, name))
            .scalar_subquery()
        )
        return self._one_repo(repos.c.id == target)

    def spaces_by_host_label(self, label: str) -> list[RepoRecord]:
        """One statement on the indexed `space_host`, tags included."""
        select = (
            sa.select(repos, _TAG_LINES).where(repos.c.space_host == label).order_by(repos.c.id)
        )
        with self._db.query() as conn:
            rows = conn.execute(select).all()
        return [
            repo_record(row._mapping, row.tag_lines.split("\n") if row.tag_lines else ())
            for row in rows
        ]

    def find_repo(self, type: str, namespace: str, name: str) -> RepoLookup:
        """The repo, its redirect and its namespace's owner, in one statement always."""
        keys = {"type": type, "lookup": _lookup(namespace, name), "owner": namespace.lower()}
        with self._db.query() as conn:
            result = conn.execute(_FIND_REPO, keys).all()
        found, moved, owned = result[0].found, result[0].moved, result[0].owned
        rows = {row.id: row for row in result if row.id is not None}

        def record(repo_id: int | None) -> RepoRecord | None:
            row = rows.get(repo_id) if repo_id is not None else None
            if row is None:
                return None
            return repo_record(row._mapping, row.tag_lines.split("\n") if row.tag_lines else ())

        return RepoLookup(record(found), record(moved), bool(owned))

    def _one_repo(self, condition: sa.ColumnElement[bool]) -> RepoRecord | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(repos).where(condition)).first()
            if row is None:
                return None
            tags = conn.scalars(
                sa.select(repo_tags.c.tag).where(repo_tags.c.repo_id == row.id)
            ).all()
        return repo_record(row._mapping, tags)

    def update_repo(self, repo_id: int, **values: object) -> RepoRecord:
        """Update columns; `tags` replaces the tag rows."""
        with self._db.write() as conn:
            _update(conn, repo_id, values)
        return self._record(repo_id)

    def update_settings(self, repo_id: int, actor_id: int | None, **values: object) -> RepoRecord:
        """Compare with the row and update, with the event of what changed, in one transaction."""
        with self._db.write() as conn:
            row = conn.execute(sa.select(repos).where(repos.c.id == repo_id)).one()
            changed = {k: v for k, v in values.items() if row._mapping[k] != v}
            if changed:
                _update(conn, repo_id, changed)
                updated = {_SETTINGS[k]: False if v is None else v for k, v in changed.items()}
                payload = {
                    "private": changed.get("private", bool(row.private)),
                    "updatedConfig": updated,
                }
                record_event(
                    conn, HubEventKind.REPO_CONFIG, repo_id, None, actor_id, payload, utc_now()
                )
        return self._record(repo_id)

    def record_refs(
        self,
        repo_id: int,
        updates: Sequence[RefUpdate],
        main: str | None,
        actor_id: int | None,
        refresh: Mapping[str, object],
    ) -> RepoRecord:
        """Update columns as `update_repo` does, and record the refs' event, in one transaction."""
        with self._db.write() as conn:
            _update(conn, repo_id, refresh)
            private = conn.scalar(sa.select(repos.c.private).where(repos.c.id == repo_id))
            payload: dict[str, object] = {
                "private": bool(private),
                "headSha": main,
                "updatedRefs": [
                    {"ref": update.name, "oldSha": update.old, "newSha": update.new}
                    for update in updates
                ],
            }
            record_event(
                conn, HubEventKind.REPO_CONTENT, repo_id, None, actor_id, payload, utc_now()
            )
        return self._record(repo_id)

    def _record(self, repo_id: int) -> RepoRecord:
        record = self._one_repo(repos.c.id == repo_id)
        assert record is not None
        return record

    def move_repo(
        self, repo_id: int, namespace: str, name: str, *, actor_id: int | None = None
    ) -> RepoRecord:
        """Rename, leaving a redirect behind (none for a change of case only)."""
        try:
            with self._db.write() as conn:
                row = conn.execute(sa.select(repos).where(repos.c.id == repo_id)).one()
                names = event_names(conn, repo_id, actor_id)
                lookup = _lookup(namespace, name)
                # The new id stops being a redirect, and so does the old one until it is
                # re-pointed here: a stale or self-pointing row must not block the insert.
                conn.execute(
                    sa.delete(repo_redirects).where(
                        (repo_redirects.c.type == row.type)
                        & repo_redirects.c.lookup.in_([lookup, row.lookup])
                    )
                )
                conn.execute(
                    sa.update(repos)
                    .where(repos.c.id == repo_id)
                    .values(
                        namespace=namespace,
                        name=name,
                        lookup=lookup,
                        space_host=_space_host(row.type, namespace, name),
                    )
                )
                if row.lookup != lookup:
                    conn.execute(
                        sa.insert(repo_redirects).values(
                            type=row.type, lookup=row.lookup, repo_id=repo_id
                        )
                    )
                payload = {"private": bool(row.private), "movedTo": f"{namespace}/{name}"}
                record_event(
                    conn,
                    HubEventKind.REPO_MOVE,
                    repo_id,
                    None,
                    actor_id,
                    payload,
                    utc_now(),
                    names=names,
                )
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError(f"{namespace}/{name}") from exc
        return self._record(repo_id)

    def delete_repo(self, repo_id: int, *, actor_id: int | None = None) -> None:
        """Delete a repo row; tags, redirects, LFS links, file locks and mirror configs cascade."""
        with self._db.write() as conn:
            row = conn.execute(sa.select(repos).where(repos.c.id == repo_id)).first()
            if row is None:
                return
            names = event_names(conn, repo_id, actor_id)
            conn.execute(sa.delete(repo_redirects).where(repo_redirects.c.repo_id == repo_id))
            conn.execute(sa.delete(repo_tags).where(repo_tags.c.repo_id == repo_id))
            conn.execute(sa.delete(repos).where(repos.c.id == repo_id))
            record_deletion(conn, row, names, actor_id)

    def list_repos(self, query: RepoQuery) -> list[RepoRecord]:
        """A page of repos; every search term and tag must match."""
        terms = [*query.search, *query.tags, query.author or "", query.pipeline_tag or ""]
        if any("\x00" in term for term in terms):
            # No stored text holds a NUL, and PostgreSQL refuses to even compare with one.
            return []
        select = sa.select(repos).where(repos.c.type == query.type)
        for term in query.search:
            select = select.where(repos.c.lookup.contains(term.lower(), autoescape=True))
        if query.author is not None:
            select = select.where(sa.func.lower(repos.c.namespace) == query.author.lower())
        for tag in query.tags:
            select = select.where(
                repos.c.id.in_(sa.select(repo_tags.c.repo_id).where(repo_tags.c.tag == tag))
            )
        if query.gated is not None:
            select = select.where(
                repos.c.gated.is_not(None) if query.gated else repos.c.gated.is_(None)
            )
        if query.pipeline_tag is not None:
            select = select.where(repos.c.pipeline_tag == query.pipeline_tag)
        if query.visible_namespaces is not None:
            select = select.where(visible_to(query.visible_namespaces))
        column = _SORT_COLUMNS[query.sort]
        order = column.desc() if query.descending else column.asc()
        select = select.order_by(order, repos.c.id.desc() if query.descending else repos.c.id)
        select = select.offset(query.offset).limit(query.limit)
        with self._db.read() as conn:
            rows = conn.execute(select).all()
            ids = [row.id for row in rows]
            tags: dict[int, list[str]] = {i: [] for i in ids}
            for repo_id, tag in conn.execute(
                sa.select(repo_tags.c.repo_id, repo_tags.c.tag).where(repo_tags.c.repo_id.in_(ids))
            ):
                tags[repo_id].append(tag)
        return [repo_record(row._mapping, tags[row.id]) for row in rows]

    def tag_usage(self, type: str, visible_namespaces: Sequence[str] | None) -> TagUsage:
        """Three `SELECT DISTINCT`s over the visible repos of the type, in one transaction."""
        condition = repos.c.type == type
        if visible_namespaces is not None:
            condition = condition & visible_to(visible_namespaces)
        ids = sa.select(repos.c.id).where(condition)

        def distinct(column: sa.Column[Any]) -> sa.Select[Any]:
            return sa.select(column).where(condition & column.is_not(None)).distinct()

        with self._db.read() as conn:
            tags = conn.scalars(
                sa.select(repo_tags.c.tag).where(repo_tags.c.repo_id.in_(ids)).distinct()
            )
            return TagUsage(
                tags=frozenset(tags),
                pipeline_tags=frozenset(conn.scalars(distinct(repos.c.pipeline_tag))),
                libraries=frozenset(conn.scalars(distinct(repos.c.library_name))),
            )


def _update(conn: sa.Connection, repo_id: int, values: Mapping[str, object]) -> None:
    """Change columns of a repo row; `tags` replaces its tag rows."""
    columns = {k: v for k, v in values.items() if k != "tags"}
    if columns:
        conn.execute(sa.update(repos).where(repos.c.id == repo_id).values(**columns))
    new_tags = values.get("tags")
    if new_tags is not None:
        assert isinstance(new_tags, list | tuple)
        conn.execute(sa.delete(repo_tags).where(repo_tags.c.repo_id == repo_id))
        if new_tags:
            conn.execute(
                sa.insert(repo_tags),
                [{"repo_id": repo_id, "tag": tag} for tag in dict.fromkeys(new_tags)],
            )


def record_deletion(conn: sa.Connection, row: Any, names: EventNames, actor_id: int | None) -> None:
    """The event of a repo deleted in this transaction: `row` and `names` as read before."""
    payload = {"private": bool(row.private), "headSha": row.head}
    record_event(
        conn, HubEventKind.REPO_DELETE, row.id, None, actor_id, payload, utc_now(), names=names
    )


def visible_to(namespaces: Sequence[str]) -> sa.ColumnElement[bool]:
    """Public repos, and the private ones of these namespaces."""
    visible = sa.func.lower(repos.c.namespace).in_([ns.lower() for ns in namespaces])
    return sa.or_(repos.c.private.is_(False), visible)


def in_namespace(table: sa.Table, namespace: str) -> sa.ColumnElement[bool]:
    """Rows of `repos` or `repo_redirects` whose (lowercased) id is in the namespace."""
    return table.c.lookup.startswith(f"{namespace.lower()}/", autoescape=True)


def repo_record(row: Any, tags: Any) -> RepoRecord:
    """The repo a row of `repos` holds, with its `tags`."""
    return RepoRecord(
        id=row["id"],
        type=row["type"],
        namespace=row["namespace"],
        name=row["name"],
        storage_key=row["storage_key"],
        private=bool(row["private"]),
        gated=row["gated"],
        discussions_disabled=bool(row["discussions_disabled"]),
        created_at=as_utc(row["created_at"]),
        last_modified=as_utc(row["last_modified"]),
        head=row["head"],
        card_data=row["card_data"],
        library_name=row["library_name"],
        pipeline_tag=row["pipeline_tag"],
        sdk=row["sdk"],
        tags=tuple(sorted(tags)),
        downloads=row["downloads"],
        likes=row["likes"],
    )
