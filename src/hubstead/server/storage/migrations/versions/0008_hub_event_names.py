"""Hub events keep the names of their repo and actor as they were when recorded.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hub_events", sa.Column("repo_type", sa.String(16)))
    op.add_column("hub_events", sa.Column("repo_name", sa.String(200)))
    op.add_column("hub_events", sa.Column("actor_name", sa.String(96)))


def downgrade() -> None:
    for column in ("actor_name", "repo_name", "repo_type"):
        op.drop_column("hub_events", column)
