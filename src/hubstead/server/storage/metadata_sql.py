"""`MetadataStore` on SQL through SQLAlchemy Core (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from hubstead.server.storage.db import Database
from hubstead.server.storage.interfaces import (
    Account,
    AccountKind,
    AlreadyExistsError,
    Membership,
    NamespaceNotEmptyError,
    RepoLookup,
    RepoQuery,
    RepoRecord,
    Role,
    TokenRecord,
)
from hubstead.server.storage.schema import (
    accounts,
    memberships,
    repo_redirects,
    repo_tags,
    repos,
    tokens,
)

_SORT_COLUMNS = {
    "created_at": repos.c.created_at,
    "last_modified": repos.c.last_modified,
    "downloads": repos.c.downloads,
    "likes": repos.c.likes,
    "id": repos.c.lookup,
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _lookup(namespace: str, name: str) -> str:
    return f"{namespace}/{name}".lower()


class SqlMetadataStore:
    """Accounts, tokens and repo rows in one SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- accounts -------------------------------------------------------------------------------

    def count_accounts(self) -> int:
        """Number of accounts."""
        with self._db.read() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(accounts)) or 0)

    def create_account(
        self, name: str, kind: AccountKind, fullname: str, email: str | None, is_admin: bool
    ) -> Account:
        """Insert an account."""
        values = {
            "name": name,
            "name_lower": name.lower(),
            "kind": kind.value,
            "fullname": fullname,
            "email": email,
            "is_admin": is_admin,
            "created_at": _now(),
        }
        try:
            with self._db.write() as conn:
                new_id = conn.execute(sa.insert(accounts).values(values)).inserted_primary_key
                # Redirects from old ids in the namespace (left by an earlier owner of the name)
                # belong to nobody now: the new account starts with none.
                conn.execute(sa.delete(repo_redirects).where(_in_namespace(repo_redirects, name)))
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError(name) from exc
        assert new_id is not None
        return _account({"id": new_id[0], **values})

    def get_account(self, name: str) -> Account | None:
        """Account by name, ignoring case."""
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(accounts).where(accounts.c.name_lower == name.lower())
            ).first()
        return _account(row._mapping) if row else None

    def get_account_by_id(self, account_id: int) -> Account | None:
        """Account by id."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).first()
        return _account(row._mapping) if row else None

    def list_accounts(self, kind: AccountKind | None = None) -> list[Account]:
        """All accounts of a kind, by name."""
        query = sa.select(accounts).order_by(accounts.c.name_lower)
        if kind is not None:
            query = query.where(accounts.c.kind == kind.value)
        with self._db.read() as conn:
            return [_account(row._mapping) for row in conn.execute(query)]

    def delete_account(self, account_id: int, *, with_repos: bool) -> list[RepoRecord]:
        """Delete an account, its namespace's redirects and (`with_repos`) repos, at once.

        Memberships, tokens and the account's file locks cascade; so do the LFS links, file
        locks, mirror configs and tags of the deleted repos.
        """
        with self._db.write() as conn:
            name = conn.scalar(sa.select(accounts.c.name).where(accounts.c.id == account_id))
            if name is None:
                return []
            rows = conn.execute(
                sa.select(repos).where(_in_namespace(repos, name)).order_by(repos.c.lookup)
            ).all()
            if rows and not with_repos:
                raise NamespaceNotEmptyError(
                    [f"{row.type} {row.namespace}/{row.name}" for row in rows]
                )
            ids = [row.id for row in rows]
            conn.execute(
                sa.delete(repo_redirects).where(
                    _in_namespace(repo_redirects, name) | repo_redirects.c.repo_id.in_(ids)
                )
            )
            conn.execute(sa.delete(repo_tags).where(repo_tags.c.repo_id.in_(ids)))
            conn.execute(sa.delete(repos).where(repos.c.id.in_(ids)))
            conn.execute(sa.delete(accounts).where(accounts.c.id == account_id))
        return [_repo(row._mapping, ()) for row in rows]

    def namespace_repos(self, namespace: str) -> list[RepoRecord]:
        """Every repo in a namespace, of every type (without their tags)."""
        query = sa.select(repos).where(_in_namespace(repos, namespace))
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(repos.c.type, repos.c.lookup)).all()
        return [_repo(row._mapping, ()) for row in rows]

    def set_membership(self, org_id: int, user_id: int, role: Role) -> None:
        """Insert or update a membership."""
        key = (memberships.c.org_id == org_id) & (memberships.c.user_id == user_id)
        with self._db.write() as conn:
            updated = conn.execute(sa.update(memberships).where(key).values(role=role.value))
            if updated.rowcount == 0:
                conn.execute(
                    sa.insert(memberships).values(org_id=org_id, user_id=user_id, role=role.value)
                )

    def remove_membership(self, org_id: int, user_id: int) -> bool:
        """Delete a membership."""
        key = (memberships.c.org_id == org_id) & (memberships.c.user_id == user_id)
        with self._db.write() as conn:
            return bool(conn.execute(sa.delete(memberships).where(key)).rowcount)

    def memberships_of(self, user_id: int) -> list[Membership]:
        """A user's organizations."""
        return self._memberships(memberships.c.user_id == user_id)

    def members_of(self, org_id: int) -> list[Membership]:
        """An organization's members."""
        return self._memberships(memberships.c.org_id == org_id)

    def _memberships(self, condition: sa.ColumnElement[bool]) -> list[Membership]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(memberships).where(condition)).all()
            ids = {row.org_id for row in rows} | {row.user_id for row in rows}
            by_id = {
                row.id: _account(row._mapping)
                for row in conn.execute(sa.select(accounts).where(accounts.c.id.in_(ids)))
            }
        result = [Membership(by_id[r.org_id], by_id[r.user_id], Role(r.role)) for r in rows]
        return sorted(result, key=lambda m: (m.org.name.lower(), m.user.name.lower()))

    # --- tokens ---------------------------------------------------------------------------------

    def add_token(self, user_id: int, name: str, role: Role, token_hash: str) -> TokenRecord:
        """Insert a token hash."""
        values = {
            "user_id": user_id,
            "name": name,
            "role": role.value,
            "token_hash": token_hash,
            "created_at": _now(),
            "last_used_at": None,
        }
        try:
            with self._db.write() as conn:
                new_id = conn.execute(sa.insert(tokens).values(values)).inserted_primary_key
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError("token") from exc
        assert new_id is not None
        return _token({"id": new_id[0], **values})

    def find_token(self, token_hash: str) -> tuple[TokenRecord, Account] | None:
        """Token and user by hash."""
        query = (
            sa.select(tokens, accounts)
            .join(accounts, accounts.c.id == tokens.c.user_id)
            .where(tokens.c.token_hash == token_hash)
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        values = row._mapping
        token = _token({c.name: values[tokens.c[c.name]] for c in tokens.columns})
        account = _account({c.name: values[accounts.c[c.name]] for c in accounts.columns})
        return token, account

    def list_tokens(self, user_id: int) -> list[TokenRecord]:
        """A user's tokens."""
        query = sa.select(tokens).where(tokens.c.user_id == user_id).order_by(tokens.c.id)
        with self._db.read() as conn:
            return [_token(row._mapping) for row in conn.execute(query)]

    def delete_token(self, user_id: int, name: str) -> int:
        """Delete a user's tokens named `name`."""
        condition = (tokens.c.user_id == user_id) & (tokens.c.name == name)
        with self._db.write() as conn:
            return int(conn.execute(sa.delete(tokens).where(condition)).rowcount)

    # --- repos ----------------------------------------------------------------------------------

    def create_repo(
        self,
        type: str,
        namespace: str,
        name: str,
        storage_key: str,
        private: bool,
        sdk: str | None = None,
    ) -> RepoRecord:
        """Insert a repo row; a redirect from the same id is dropped."""
        now = _now()
        values: dict[str, Any] = {
            "type": type,
            "namespace": namespace,
            "name": name,
            "lookup": _lookup(namespace, name),
            "storage_key": storage_key,
            "private": private,
            "gated": None,
            "discussions_disabled": False,
            "created_at": now,
            "last_modified": now,
            "head": None,
            "card_data": None,
            "library_name": None,
            "pipeline_tag": None,
            "sdk": sdk,
            "downloads": 0,
            "likes": 0,
        }
        try:
            with self._db.write() as conn:
                new_id = conn.execute(sa.insert(repos).values(values)).inserted_primary_key
                conn.execute(
                    sa.delete(repo_redirects).where(
                        (repo_redirects.c.type == type)
                        & (repo_redirects.c.lookup == values["lookup"])
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError(f"{namespace}/{name}") from exc
        assert new_id is not None
        return _repo({"id": new_id[0], **values}, ())

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

    def find_repo(self, type: str, namespace: str, name: str) -> RepoLookup:
        """The repo, its redirect and its namespace's owner, in three statements always."""
        lookup = _lookup(namespace, name)
        found = sa.select(repos.c.id).where((repos.c.type == type) & (repos.c.lookup == lookup))
        moved = sa.select(repo_redirects.c.repo_id).where(
            (repo_redirects.c.type == type) & (repo_redirects.c.lookup == lookup)
        )
        owner = sa.select(accounts.c.id).where(accounts.c.name_lower == namespace.lower())
        with self._db.read() as conn:
            ids = conn.execute(
                sa.select(
                    found.scalar_subquery().label("repo"),
                    moved.scalar_subquery().label("moved"),
                    sa.exists(owner).label("owned"),
                )
            ).one()
            # The rows and tags are read even when there is nothing to read: a missing repo
            # costs what a private one does.
            wanted = [i for i in (ids.repo, ids.moved) if i is not None]
            rows = {r.id: r for r in conn.execute(sa.select(repos).where(repos.c.id.in_(wanted)))}
            tags: dict[int, list[str]] = {i: [] for i in wanted}
            for repo_id, tag in conn.execute(
                sa.select(repo_tags.c.repo_id, repo_tags.c.tag).where(
                    repo_tags.c.repo_id.in_(wanted)
                )
            ):
                tags[repo_id].append(tag)

        def record(repo_id: int | None) -> RepoRecord | None:
            row = rows.get(repo_id) if repo_id is not None else None
            return _repo(row._mapping, tags[row.id]) if row is not None else None

        return RepoLookup(record(ids.repo), record(ids.moved), bool(ids.owned))

    def _one_repo(self, condition: sa.ColumnElement[bool]) -> RepoRecord | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(repos).where(condition)).first()
            if row is None:
                return None
            tags = conn.scalars(
                sa.select(repo_tags.c.tag).where(repo_tags.c.repo_id == row.id)
            ).all()
        return _repo(row._mapping, tags)

    def update_repo(self, repo_id: int, **values: object) -> RepoRecord:
        """Update columns; `tags` replaces the tag rows."""
        new_tags = values.pop("tags", None)
        with self._db.write() as conn:
            if values:
                conn.execute(sa.update(repos).where(repos.c.id == repo_id).values(**values))
            if new_tags is not None:
                assert isinstance(new_tags, list | tuple)
                conn.execute(sa.delete(repo_tags).where(repo_tags.c.repo_id == repo_id))
                if new_tags:
                    conn.execute(
                        sa.insert(repo_tags),
                        [{"repo_id": repo_id, "tag": tag} for tag in dict.fromkeys(new_tags)],
                    )
        record = self._one_repo(repos.c.id == repo_id)
        assert record is not None
        return record

    def move_repo(self, repo_id: int, namespace: str, name: str) -> RepoRecord:
        """Rename, leaving a redirect behind (none for a change of case only)."""
        try:
            with self._db.write() as conn:
                row = conn.execute(sa.select(repos).where(repos.c.id == repo_id)).one()
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
                    .values(namespace=namespace, name=name, lookup=lookup)
                )
                if row.lookup != lookup:
                    conn.execute(
                        sa.insert(repo_redirects).values(
                            type=row.type, lookup=row.lookup, repo_id=repo_id
                        )
                    )
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError(f"{namespace}/{name}") from exc
        record = self._one_repo(repos.c.id == repo_id)
        assert record is not None
        return record

    def delete_repo(self, repo_id: int) -> None:
        """Delete a repo row; tags, redirects, LFS links, file locks and mirror configs cascade."""
        with self._db.write() as conn:
            conn.execute(sa.delete(repo_redirects).where(repo_redirects.c.repo_id == repo_id))
            conn.execute(sa.delete(repo_tags).where(repo_tags.c.repo_id == repo_id))
            conn.execute(sa.delete(repos).where(repos.c.id == repo_id))

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
            visible = sa.func.lower(repos.c.namespace).in_(
                [ns.lower() for ns in query.visible_namespaces]
            )
            select = select.where(sa.or_(repos.c.private.is_(False), visible))
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
        return [_repo(row._mapping, tags[row.id]) for row in rows]


def _in_namespace(table: sa.Table, namespace: str) -> sa.ColumnElement[bool]:
    """Rows of `repos` or `repo_redirects` whose (lowercased) id is in the namespace."""
    return table.c.lookup.startswith(f"{namespace.lower()}/", autoescape=True)


def _account(row: Any) -> Account:
    return Account(
        id=row["id"],
        name=row["name"],
        kind=AccountKind(row["kind"]),
        fullname=row["fullname"],
        email=row["email"],
        is_admin=bool(row["is_admin"]),
        created_at=_utc(row["created_at"]),
    )


def _token(row: Any) -> TokenRecord:
    last_used = row["last_used_at"]
    return TokenRecord(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        role=Role(row["role"]),
        token_hash=row["token_hash"],
        created_at=_utc(row["created_at"]),
        last_used_at=_utc(last_used) if last_used else None,
    )


def _repo(row: Any, tags: Any) -> RepoRecord:
    return RepoRecord(
        id=row["id"],
        type=row["type"],
        namespace=row["namespace"],
        name=row["name"],
        storage_key=row["storage_key"],
        private=bool(row["private"]),
        gated=row["gated"],
        discussions_disabled=bool(row["discussions_disabled"]),
        created_at=_utc(row["created_at"]),
        last_modified=_utc(row["last_modified"]),
        head=row["head"],
        card_data=row["card_data"],
        library_name=row["library_name"],
        pipeline_tag=row["pipeline_tag"],
        sdk=row["sdk"],
        tags=tuple(sorted(tags)),
        downloads=row["downloads"],
        likes=row["likes"],
    )
