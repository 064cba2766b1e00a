"""The SQL tables of the metadata store (SQLAlchemy Core).

Migrations in `migrations/versions/` create and change these tables; a new column lands here and
in a new migration in the same commit.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(96), nullable=False),
    sa.Column("name_lower", sa.String(96), nullable=False, unique=True),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("fullname", sa.String(255), nullable=False),
    sa.Column("email", sa.String(255)),
    sa.Column("is_admin", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Organizations: whether a repo created without a visibility is private.
    sa.Column("private_by_default", sa.Boolean, nullable=False, server_default=sa.false()),
    # Users who may sign in to the web hub with a password: its scrypt hash (`passwords.py`).
    sa.Column("password_hash", sa.String(255)),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column(
        "org_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("role", sa.String(8), nullable=False),
)

# Who follows whom: users follow users and organizations.
follows = sa.Table(
    "follows",
    metadata,
    sa.Column(
        "follower_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "followee_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("role", sa.String(8), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
)

repos = sa.Table(
    "repos",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("namespace", sa.String(96), nullable=False, index=True),
    sa.Column("name", sa.String(96), nullable=False),
    sa.Column("lookup", sa.String(200), nullable=False),
    sa.Column("storage_key", sa.String(64), nullable=False, unique=True),
    sa.Column("private", sa.Boolean, nullable=False),
    sa.Column("gated", sa.String(16)),
    sa.Column("discussions_disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
    sa.Column("head", sa.String(64)),
    sa.Column("card_data", sa.JSON),
    sa.Column("library_name", sa.String(64)),
    sa.Column("pipeline_tag", sa.String(64)),
    sa.Column("sdk", sa.String(32)),
    sa.Column("downloads", sa.Integer, nullable=False),
    sa.Column("likes", sa.Integer, nullable=False),
    # A Space's id as the Hub spells its host label (`domain.spaces.spelled_label`), None for
    # the other repos: the Space hosts find their Space by it.
    sa.Column("space_host", sa.String(200), index=True),
    sa.UniqueConstraint("type", "lookup", name="uq_repos_type_lookup"),
)

repo_tags = sa.Table(
    "repo_tags",
    metadata,
    sa.Column(
        "repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("tag", sa.String(255), primary_key=True, index=True),
)

repo_redirects = sa.Table(
    "repo_redirects",
    metadata,
    sa.Column("type", sa.String(16), primary_key=True),
    sa.Column("lookup", sa.String(200), primary_key=True),
    sa.Column("repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), nullable=False),
)

lfs_objects = sa.Table(
    "lfs_objects",
    metadata,
    sa.Column(
        "repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("sha256", sa.String(64), primary_key=True, index=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("key", sa.String(255)),
    # The key while the job is queued or running, NULL after: unique, so that one key has at most
    # one live job (NULLs never collide, on SQLite as on PostgreSQL).
    sa.Column("active_key", sa.String(255), unique=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("files_done", sa.BigInteger, nullable=False),
    sa.Column("files_total", sa.BigInteger),
    sa.Column("bytes_done", sa.BigInteger, nullable=False),
    sa.Column("bytes_total", sa.BigInteger),
    sa.Column("error", sa.Text),
    sa.Column("log_tail", sa.JSON, nullable=False),
    sa.Column("cancel_requested", sa.Boolean, nullable=False),
    sa.Column("owner", sa.String(64)),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_jobs_state_next_run_at", "state", "next_run_at"),
)

mirrors = sa.Table(
    "mirrors",
    metadata,
    sa.Column(
        "repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("upstream", sa.String(2048), nullable=False),
    sa.Column("upstream_repo_id", sa.String(200), nullable=False),
    sa.Column("upstream_token", sa.Text),
    sa.Column("revisions", sa.JSON, nullable=False),
    sa.Column("include", sa.JSON, nullable=False),
    sa.Column("exclude", sa.JSON, nullable=False),
    sa.Column("schedule_seconds", sa.Integer),
    sa.Column("on_demand", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("synced_at", sa.DateTime(timezone=True)),
    sa.Column("sync_error", sa.Text),
    sa.Column("next_sync_at", sa.DateTime(timezone=True)),
)

lfs_locks = sa.Table(
    "lfs_locks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), nullable=False),
    sa.Column("path", sa.String(1024), nullable=False),
    sa.Column(
        "owner_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
    # Also the index that lists a repo's locks in path order.
    sa.UniqueConstraint("repo_id", "path", name="uq_lfs_locks_repo_path"),
    # An id is never given out again (SQLite would reuse the highest one after a delete): a
    # client that kept a stale id must not unlock another lock with it.
    sqlite_autoincrement=True,
)

# Xet: verified xorbs (their chunks packed, see `xet_index_sql`), the repos each may be used
# from and the accounts that uploaded it, the global-dedup chunks that find them, the files
# reconstructable from them, and which files use which xorbs (a dedup answer describes a
# found xorb's neighbours in those files).
xet_xorbs = sa.Table(
    "xet_xorbs",
    metadata,
    sa.Column("hash", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("chunks", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

xet_xorb_repos = sa.Table(
    "xet_xorb_repos",
    metadata,
    sa.Column(
        "xorb_hash",
        sa.String(64),
        sa.ForeignKey("xet_xorbs.hash", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "repo_id",
        sa.Integer,
        sa.ForeignKey("repos.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

xet_xorb_uploaders = sa.Table(
    "xet_xorb_uploaders",
    metadata,
    sa.Column(
        "xorb_hash",
        sa.String(64),
        sa.ForeignKey("xet_xorbs.hash", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "account_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

xet_dedup_chunks = sa.Table(
    "xet_dedup_chunks",
    metadata,
    sa.Column("chunk_hash", sa.String(64), primary_key=True),
    sa.Column(
        "xorb_hash",
        sa.String(64),
        sa.ForeignKey("xet_xorbs.hash", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

xet_files = sa.Table(
    "xet_files",
    metadata,
    sa.Column("hash", sa.String(64), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("terms", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

xet_file_xorbs = sa.Table(
    "xet_file_xorbs",
    metadata,
    sa.Column("xorb_hash", sa.String(64), primary_key=True),
    sa.Column(
        "file_hash",
        sa.String(64),
        sa.ForeignKey("xet_files.hash", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

# Discussions and pull requests: the last number given out in each repo (numbers are never
# reused, so `refs/pr/<num>` always names one pull request), the threads, their timelines, and
# the earlier contents of edited comments. Authors are kept as NULL once their account is gone.
discussion_numbers = sa.Table(
    "discussion_numbers",
    metadata,
    sa.Column(
        "repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("last_num", sa.Integer, nullable=False),
)

discussions = sa.Table(
    "discussions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), nullable=False),
    sa.Column("num", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column(
        "author_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    ),
    sa.Column("is_pull_request", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("target_branch", sa.String(255)),
    sa.Column("merge_commit_id", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # Also the index that lists a repo's threads newest first.
    sa.UniqueConstraint("repo_id", "num", name="uq_discussions_repo_num"),
    sa.Index("ix_discussions_repo_updated_at", "repo_id", "updated_at"),
)

# One row per event; the columns of other kinds stay NULL (`content`, `hidden`, `edits` and
# `updated_at` for comments, `status`, `old_title` and `new_title`, `commit_id` and `summary`).
discussion_events = sa.Table(
    "discussion_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "discussion_id",
        sa.Integer,
        sa.ForeignKey("discussions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column(
        "author_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    ),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("content", sa.Text),
    sa.Column("hidden", sa.Boolean),
    sa.Column("edits", sa.Integer),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(8)),
    sa.Column("old_title", sa.Text),
    sa.Column("new_title", sa.Text),
    sa.Column("commit_id", sa.String(64)),
    sa.Column("summary", sa.Text),
    # Event ids are public (comment ids in URLs): never given out twice.
    sqlite_autoincrement=True,
)

comment_edits = sa.Table(
    "comment_edits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "event_id",
        sa.Integer,
        sa.ForeignKey("discussion_events.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
)

# The outbox of hub events (`domain.hub_events`). No foreign keys: an event outlives the repo,
# thread and account it names, so it also keeps their names as they were (a row id of a deleted
# repo or account may be given again on SQLite). Ids only grow, so a reader resumes after the
# last id it saw.
hub_events = sa.Table(
    "hub_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("repo_id", sa.Integer, nullable=False),
    sa.Column("repo_type", sa.String(16)),
    sa.Column("repo_name", sa.String(200)),
    sa.Column("discussion_num", sa.Integer),
    sa.Column("actor_id", sa.Integer),
    sa.Column("actor_name", sa.String(96)),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)

# Users' requests to read gated repos' files: one per user and repo, gone with either. Ids are
# never given again (a manager acting on a stale id must not decide another user's request).
access_requests = sa.Table(
    "access_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("granted", sa.Boolean, nullable=False),
    sa.Column("rejection_reason", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # Also the index that lists a repo's requests.
    sa.UniqueConstraint("repo_id", "user_id", name="uq_access_requests_repo_user"),
    sqlite_autoincrement=True,
)

space_env = sa.Table(
    "space_env",
    metadata,
    sa.Column(
        "repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    ),
    # One key per Space: a key cannot be both a secret and a variable.
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    # A variable's value as UTF-8; a secret's nonce and AES-GCM ciphertext.
    sa.Column("value", sa.LargeBinary, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# One row per Space that was ever built (`storage/spaces.py`): where its app is in its life.
space_runtimes = sa.Table(
    "space_runtimes",
    metadata,
    sa.Column(
        "repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("stage", sa.String(32), nullable=False),
    # Raised by each build, pause and restart: a build only writes while it is still the last.
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("sdk", sa.String(16)),
    sa.Column("hardware", sa.String(32), nullable=False),
    sa.Column("sleep_seconds", sa.Integer),
    sa.Column("commit_id", sa.String(40)),
    sa.Column("address_host", sa.String(255)),
    sa.Column("address_port", sa.Integer),
    sa.Column("address_root", sa.String(255)),
    # `host:pid` of the process whose runner started the app.
    sa.Column("owner", sa.String(128), index=True),
    sa.Column("error", sa.Text),
    # The mounted repos, as JSON (`SpaceVolume` fields).
    sa.Column("volumes", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_request_at", sa.DateTime(timezone=True)),
    # A factory restart asked for a build without caches that no build has done yet.
    sa.Column("fresh_build", sa.Boolean, nullable=False, server_default=sa.false()),
)

# The last lines of each Space's build and run logs, numbered from 0 in each.
space_logs = sa.Table(
    "space_logs",
    metadata,
    sa.Column(
        "repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)

likes = sa.Table(
    "likes",
    metadata,
    sa.Column(
        "account_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_likes_repo_id", "repo_id"),
)

collections = sa.Table(
    "collections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("object_id", sa.String(24), nullable=False, unique=True),
    sa.Column(
        "owner_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("private", sa.Boolean, nullable=False),
    sa.Column("theme", sa.String(16), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# An item is a repo or another collection; it goes when what it names is deleted.
collection_items = sa.Table(
    "collection_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("object_id", sa.String(24), nullable=False, unique=True),
    sa.Column(
        "collection_id",
        sa.Integer,
        sa.ForeignKey("collections.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("item_type", sa.String(16), nullable=False),
    sa.Column("repo_id", sa.Integer, sa.ForeignKey("repos.id", ondelete="CASCADE"), index=True),
    sa.Column(
        "item_collection_id",
        sa.Integer,
        sa.ForeignKey("collections.id", ondelete="CASCADE"),
        index=True,
    ),
    sa.Column("note", sa.Text),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("collection_id", "repo_id", name="uq_collection_items_repo"),
    sa.UniqueConstraint(
        "collection_id", "item_collection_id", name="uq_collection_items_collection"
    ),
    sa.Index("ix_collection_items_position", "collection_id", "position"),
)

# Webhooks of users (`domain.webhooks`); the secret is kept to be sent, never shown again.
# `after_event` is the last hub event before the webhook existed.
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("object_id", sa.String(24), nullable=False, unique=True),
    sa.Column(
        "owner_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.String(256)),
    sa.Column("domains", sa.JSON, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("after_event", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# What each webhook watches, found by kind and lower-cased name when an event is dispatched.
webhook_watches = sa.Table(
    "webhook_watches",
    metadata,
    sa.Column(
        "webhook_id",
        sa.Integer,
        sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("lookup", sa.String(200), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index("ix_webhook_watches_kind_lookup", "kind", "lookup"),
)

# One row per event and webhook: the payload as built when the event was dispatched, and how
# the last attempt to POST it went.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("object_id", sa.String(24), nullable=False, unique=True),
    sa.Column(
        "webhook_id",
        sa.Integer,
        sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("latency_ms", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempted_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
)

# How far each reader of the hub-event outbox got (the webhook dispatcher: `webhooks`).
hub_event_cursors = sa.Table(
    "hub_event_cursors",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("last_id", sa.Integer, nullable=False),
)

# Signed-in browsers: the sha256 of the session cookie's secret, never the secret.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "account_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user_agent", sa.String(255), nullable=False),
)

# OAuth device logins (RFC 8628): the sha256 of the device code, the code a person types, and
# the state the person's decision left it in (`domain.device_logins`).
device_logins = sa.Table(
    "device_logins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_code", sa.String(16), nullable=False, unique=True),
    sa.Column("client_id", sa.String(255), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_polled_at", sa.DateTime(timezone=True)),
)

# Files uploaded for discussions (`upload_attachment`), one row per content: the bytes are in
# the attachment blob store under the sha256. The uploader is kept for moderation; deleting
# the account keeps the file (it may be embedded in discussions).
attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("content_type", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column(
        "uploader_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    ),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
