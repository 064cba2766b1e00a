"""`AccountStore` on SQL through SQLAlchemy Core (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.accounts import Account, AccountKind, Membership, Role
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.storage.db import Database, as_utc, utc_now
from hubstead.server.storage.errors import AlreadyExistsError, NamespaceNotEmptyError
from hubstead.server.storage.hub_events_sql import event_names
from hubstead.server.storage.repos_sql import in_namespace, record_deletion, repo_record
from hubstead.server.storage.schema import (
    accounts,
    likes,
    memberships,
    repo_redirects,
    repo_tags,
    repos,
)

# Read for every authenticated request (`AuthService._identity`): built once, so SQLAlchemy finds
# them compiled in its cache without building each statement and its cache key again.
_MEMBERSHIPS_OF_USER = sa.select(memberships).where(memberships.c.user_id == sa.bindparam("key"))
_MEMBERS_OF_ORG = sa.select(memberships).where(memberships.c.org_id == sa.bindparam("key"))
_ACCOUNTS_BY_ID = sa.select(accounts).where(accounts.c.id.in_(sa.bindparam("ids", expanding=True)))


class SqlAccountStore:
    """Accounts and memberships in the SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

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
            "created_at": utc_now(),
            "private_by_default": False,
        }
        try:
            with self._db.write() as conn:
                new_id = conn.execute(sa.insert(accounts).values(values)).inserted_primary_key
                # Redirects from old ids in the namespace (left by an earlier owner of the name)
                # belong to nobody now: the new account starts with none.
                conn.execute(sa.delete(repo_redirects).where(in_namespace(repo_redirects, name)))
        except sa.exc.IntegrityError as exc:
            raise AlreadyExistsError(name) from exc
        assert new_id is not None
        return account_record({"id": new_id[0], **values})

    def get_account(self, name: str) -> Account | None:
        """Account by name, ignoring case."""
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(accounts).where(accounts.c.name_lower == name.lower())
            ).first()
        return account_record(row._mapping) if row else None

    def get_account_by_id(self, account_id: int) -> Account | None:
        """Account by id."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).first()
        return account_record(row._mapping) if row else None

    def list_accounts(self, kind: AccountKind | None = None) -> list[Account]:
        """All accounts of a kind, by name."""
        query = sa.select(accounts).order_by(accounts.c.name_lower)
        if kind is not None:
            query = query.where(accounts.c.kind == kind.value)
        with self._db.read() as conn:
            return [account_record(row._mapping) for row in conn.execute(query)]

    def delete_account(self, account_id: int, *, with_repos: bool) -> list[RepoRecord]:
        """Delete an account, its namespace's redirects and (`with_repos`) repos, at once.

        Memberships, tokens, likes, collections and the account's file locks cascade (its
        likes are taken off the counts of the repos it liked); so do the LFS links, file
        locks, mirror configs and tags of the deleted repos. Each deleted repo gets its
        `repo.delete` event, without an actor (an operator's doing).
        """
        with self._db.write() as conn:
            name = conn.scalar(sa.select(accounts.c.name).where(accounts.c.id == account_id))
            if name is None:
                return []
            rows = conn.execute(
                sa.select(repos).where(in_namespace(repos, name)).order_by(repos.c.lookup)
            ).all()
            if rows and not with_repos:
                raise NamespaceNotEmptyError(
                    [f"{row.type} {row.namespace}/{row.name}" for row in rows]
                )
            ids = [row.id for row in rows]
            names = [event_names(conn, repo_id, None) for repo_id in ids]
            conn.execute(
                sa.delete(repo_redirects).where(
                    in_namespace(repo_redirects, name) | repo_redirects.c.repo_id.in_(ids)
                )
            )
            conn.execute(sa.delete(repo_tags).where(repo_tags.c.repo_id.in_(ids)))
            conn.execute(sa.delete(repos).where(repos.c.id.in_(ids)))
            liked = sa.select(likes.c.repo_id).where(likes.c.account_id == account_id)
            conn.execute(
                sa.update(repos).where(repos.c.id.in_(liked)).values(likes=repos.c.likes - 1)
            )
            conn.execute(sa.delete(accounts).where(accounts.c.id == account_id))
            for row, repo_names in zip(rows, names, strict=True):
                record_deletion(conn, row, repo_names, None)
        return [repo_record(row._mapping, ()) for row in rows]

    def namespace_repos(self, namespace: str) -> list[RepoRecord]:
        """Every repo in a namespace, of every type (without their tags)."""
        query = sa.select(repos).where(in_namespace(repos, namespace))
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(repos.c.type, repos.c.lookup)).all()
        return [repo_record(row._mapping, ()) for row in rows]

    def set_private_by_default(self, account_id: int, private: bool) -> None:
        """Update the account's default visibility for new repos."""
        with self._db.write() as conn:
            conn.execute(
                sa.update(accounts)
                .where(accounts.c.id == account_id)
                .values(private_by_default=private)
            )

    def set_fullname(self, account_id: int, fullname: str) -> None:
        """Update the account's full name."""
        with self._db.write() as conn:
            conn.execute(
                sa.update(accounts).where(accounts.c.id == account_id).values(fullname=fullname)
            )

    def password_hash(self, account_id: int) -> str | None:
        """The stored password hash."""
        with self._db.read() as conn:
            found = conn.scalar(
                sa.select(accounts.c.password_hash).where(accounts.c.id == account_id)
            )
        return str(found) if found is not None else None

    def set_password_hash(self, account_id: int, password_hash: str | None) -> None:
        """Update the password hash."""
        with self._db.write() as conn:
            conn.execute(
                sa.update(accounts)
                .where(accounts.c.id == account_id)
                .values(password_hash=password_hash)
            )

    def search_accounts(self, text: str, limit: int) -> list[Account]:
        """Accounts matching `text` in name or full name."""
        lowered = text.lower()
        condition = accounts.c.name_lower.contains(lowered, autoescape=True) | sa.func.lower(
            accounts.c.fullname
        ).contains(lowered, autoescape=True)
        query = sa.select(accounts).where(condition).order_by(accounts.c.name_lower).limit(limit)
        with self._db.read() as conn:
            return [account_record(row._mapping) for row in conn.execute(query)]

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
        return self._memberships(_MEMBERSHIPS_OF_USER, user_id)

    def members_of(self, org_id: int) -> list[Membership]:
        """An organization's members."""
        return self._memberships(_MEMBERS_OF_ORG, org_id)

    def _memberships(self, query: sa.Select[Any], key: int) -> list[Membership]:
        with self._db.read() as conn:
            rows = conn.execute(query, {"key": key}).all()
            if not rows:
                return []
            ids = sorted({row.org_id for row in rows} | {row.user_id for row in rows})
            by_id = {
                row.id: account_record(row._mapping)
                for row in conn.execute(_ACCOUNTS_BY_ID, {"ids": ids})
            }
        result = [Membership(by_id[r.org_id], by_id[r.user_id], Role(r.role)) for r in rows]
        return sorted(result, key=lambda m: (m.org.name.lower(), m.user.name.lower()))


def account_record(row: Any) -> Account:
    """The account a row of `accounts` holds."""
    return Account(
        id=row["id"],
        name=row["name"],
        kind=AccountKind(row["kind"]),
        fullname=row["fullname"],
        email=row["email"],
        is_admin=bool(row["is_admin"]),
        created_at=as_utc(row["created_at"]),
        private_by_default=bool(row["private_by_default"]),
    )
