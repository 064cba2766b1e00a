"""Accounts, memberships, tokens, repos, repo tags and redirects.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(96), nullable=False),
        sa.Column("name_lower", sa.String(96), nullable=False, unique=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("fullname", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255)),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column(
            "org_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(8), nullable=False),
    )
    op.create_table(
        "tokens",
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
    op.create_table(
        "repos",
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
        sa.UniqueConstraint("type", "lookup", name="uq_repos_type_lookup"),
    )
    op.create_table(
        "repo_tags",
        sa.Column(
            "repo_id",
            sa.Integer,
            sa.ForeignKey("repos.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(255), primary_key=True, index=True),
    )
    op.create_table(
        "repo_redirects",
        sa.Column("type", sa.String(16), primary_key=True),
        sa.Column("lookup", sa.String(200), primary_key=True),
        sa.Column(
            "repo_id",
            sa.Integer,
            sa.ForeignKey("repos.id", ondelete="CASCADE"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    for table in ("repo_redirects", "repo_tags", "repos", "tokens", "memberships", "accounts"):
        op.drop_table(table)
