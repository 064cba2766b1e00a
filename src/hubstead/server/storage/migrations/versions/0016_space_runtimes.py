"""Space runtimes: one state row per Space, and its bounded build and run logs.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "space_runtimes",
        sa.Column(
            "repo_id",
            sa.Integer,
            sa.ForeignKey("repos.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("sdk", sa.String(16)),
        sa.Column("hardware", sa.String(32), nullable=False),
        sa.Column("sleep_seconds", sa.Integer),
        sa.Column("commit_id", sa.String(40)),
        sa.Column("address_host", sa.String(255)),
        sa.Column("address_port", sa.Integer),
        sa.Column("address_root", sa.String(255)),
        sa.Column("owner", sa.String(128), index=True),
        sa.Column("error", sa.Text),
        sa.Column("volumes", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_request_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "space_logs",
        sa.Column(
            "repo_id",
            sa.Integer,
            sa.ForeignKey("repos.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )

    # The Space builder reads the outbox from here on: Spaces made before are built when first
    # looked at, not all at once on the first start after the upgrade.
    op.execute(
        "INSERT INTO hub_event_cursors (name, last_id) "
        "SELECT 'spaces', COALESCE(MAX(id), 0) FROM hub_events"
    )


def downgrade() -> None:
    op.execute("DELETE FROM hub_event_cursors WHERE name = 'spaces'")
    op.drop_table("space_logs")
    op.drop_table("space_runtimes")
