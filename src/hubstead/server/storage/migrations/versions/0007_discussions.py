"""Discussions and pull requests, their timelines and comment edits, and the hub events outbox.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "discussion_numbers",
        sa.Column(
            "repo_id",
            sa.Integer,
            sa.ForeignKey("repos.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("last_num", sa.Integer, nullable=False),
    )
    op.create_table(
        "discussions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "repo_id",
            sa.Integer,
            sa.ForeignKey("repos.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("num", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column(
            "author_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("is_pull_request", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("target_branch", sa.String(255)),
        sa.Column("merge_commit_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("repo_id", "num", name="uq_discussions_repo_num"),
        sa.Index("ix_discussions_repo_updated_at", "repo_id", "updated_at"),
    )
    op.create_table(
        "discussion_events",
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
            "author_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="SET NULL"),
            index=True,
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
        sqlite_autoincrement=True,
    )
    op.create_table(
        "comment_edits",
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
    op.create_table(
        "hub_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("repo_id", sa.Integer, nullable=False),
        sa.Column("discussion_num", sa.Integer),
        sa.Column("actor_id", sa.Integer),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    tables = (
        "hub_events",
        "comment_edits",
        "discussion_events",
        "discussions",
        "discussion_numbers",
    )
    for table in tables:
        op.drop_table(table)
