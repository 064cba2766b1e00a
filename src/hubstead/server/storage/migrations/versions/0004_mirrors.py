"""Mirrored repos: where each comes from, what it tracks, and when it syncs.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mirrors",
        sa.Column(
            "repo_id",
            sa.Integer,
            sa.ForeignKey("repos.id", ondelete="CASCADE"),
            primary_key=True,
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


def downgrade() -> None:
    op.drop_table("mirrors")
