"""Space runtimes: a factory restart's request for a build without caches, kept until done.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "space_runtimes",
        sa.Column("fresh_build", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("space_runtimes", "fresh_build")
